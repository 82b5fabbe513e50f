package sdbatch.jobs.generate;

import java.util.List;
import sdbatch.jobs.adapters.ControlNetFiles;
import sdbatch.jobs.adapters.LoraFiles;
import sdbatch.jobs.pictures.PictureDecoder;
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.jobs.pictures.PictureProblem;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.Columns;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.InputPictures;
import sdbatch.schemas.LoraRefs;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.RowValidator;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * What a {@link RowPlanner} reads for one row beyond its columns: its {@code init_image} and {@code
 * mask_image} (read once, hashed, decoded, checked; an all-black mask warns), the size a row takes
 * from its init or control picture (rounded down to a multiple of 8 like diffusers' {@code
 * VaeImageProcessor}), its LoRA set ({@link LoraFiles}) and its ControlNet folder and control
 * picture ({@link ControlNetFiles}). Each unusable file is a {@link Problem} of the row, under the
 * column that named it.
 *
 * <p>Made per row by the planner from its readers and flags; not serializable, holds nothing across
 * rows.
 *
 * @param pictures reads pictures, or null (a row with a picture is invalid)
 * @param loraFiles resolves LoRAs, or null (a row naming one is invalid)
 * @param controlNetFiles reads ControlNets, or null (a row naming one is invalid)
 * @param widthFlag {@code --width}, or null
 * @param heightFlag {@code --height}, or null
 * @param defaults the job's validation defaults, before a picture's size
 */
record RowInputs(
        PictureFiles pictures,
        LoraFiles loraFiles,
        ControlNetFiles controlNetFiles,
        Integer widthFlag,
        Integer heightFlag,
        RequestDefaults defaults) {

    /**
     * A row's LoRA set and prompt without its {@code <lora:...>} tags (issue 18).
     *
     * @param adapters the resolved set, or null for none
     * @param prompt the prompt without the tags
     * @param controlSize the control picture's width and height, or null without a ControlNet
     */
    record Adapted(Adapters adapters, String prompt, int[] controlSize) {}

    /**
     * Resolves a row's LoRAs ({@link LoraFiles}): a missing, pickle, LyCORIS or other non-LoRA file
     * is a problem of the row, under the column that named it; so is a ControlNet folder or control
     * picture that cannot be used ({@link #controlNet}).
     */
    Adapted adapt(PromptRow row, List<Problem> problems) {
        GenerationParameters given = row.parameters();
        int[] controlSize = new int[2];
        Adapters.ControlNetUse controlNet = controlNet(given, problems, controlSize);
        if (!problems.isEmpty()) {
            return null;
        }
        LoraRefs.Extracted tags = LoraRefs.extractTags(given.prompt());
        boolean named =
                given.loras() != null
                        || !tags.tags().isEmpty()
                        || (loraFiles != null && !loraFiles.flagLoras().isEmpty());
        if (!named) {
            return new Adapted(Adapters.of(List.of(), controlNet), given.prompt(), controlSize);
        }
        String column = given.loras() != null ? Columns.LORAS : Columns.PROMPT;
        if (loraFiles == null) {
            problems.add(
                    new Problem(
                            column,
                            RowValidator.show(given.loras()),
                            "this job reads no LoRA files (no LoRA reader configured)"));
            return null;
        }
        try {
            List<Adapters.Lora> set = loraFiles.resolve(given.loras(), tags.tags());
            return new Adapted(Adapters.of(set, controlNet), tags.prompt(), controlSize);
        } catch (IllegalArgumentException e) {
            String where = given.loras() != null ? given.loras() : "--lora / <lora:...> tags";
            problems.add(new Problem(column, RowValidator.show(where), e.getMessage()));
            return null;
        }
    }

    /**
     * A row's ControlNet (issue 18): its {@code controlnet} (else {@code --controlnet}) folder,
     * hashed, and its {@code control_image} read and hashed like {@code init_image} (a missing,
     * unreadable or non-picture file makes the row invalid, naming the file); null when the row
     * uses none.
     */
    private Adapters.ControlNetUse controlNet(
            GenerationParameters given, List<Problem> problems, int[] size) {
        String folder =
                controlNetFiles == null
                        ? given.controlnet()
                        : controlNetFiles.location(given.controlnet());
        if (folder == null && given.controlImage() == null) {
            return null;
        }
        if (folder == null) {
            problems.add(
                    new Problem(
                            Columns.CONTROL_IMAGE,
                            RowValidator.show(given.controlImage()),
                            "needs a ControlNet (the controlnet column or --controlnet)"));
            return null;
        }
        if (given.controlImage() == null) {
            problems.add(
                    new Problem(
                            Columns.CONTROLNET,
                            RowValidator.show(folder),
                            "needs a control picture (the control_image column)"));
            return null;
        }
        if (given.initImage() != null) {
            problems.add(
                    new Problem(
                            Columns.CONTROL_IMAGE,
                            RowValidator.show(given.controlImage()),
                            "ControlNet with init_image (diffusers'"
                                    + " StableDiffusionControlNetImg2ImgPipeline) is not supported"));
            return null;
        }
        if (controlNetFiles == null || pictures == null) {
            problems.add(
                    new Problem(
                            Columns.CONTROLNET,
                            RowValidator.show(folder),
                            "this job reads no ControlNets (no ControlNet reader configured)"));
            return null;
        }
        String sha;
        try {
            sha = controlNetFiles.sha256(folder);
        } catch (IllegalArgumentException e) {
            problems.add(
                    new Problem(
                            given.controlnet() != null ? Columns.CONTROLNET : "--controlnet",
                            RowValidator.show(folder),
                            e.getMessage()));
            return null;
        }
        PictureFiles.Loaded control = load(Columns.CONTROL_IMAGE, given.controlImage(), problems);
        if (control == null) {
            return null;
        }
        size[0] = control.image().width();
        size[1] = control.image().height();
        return new Adapters.ControlNetUse(
                folder,
                sha,
                control.uri(),
                control.sha256(),
                given.controlnetConditioningScale() == null
                        ? ControlNetUnit.DEFAULT_CONDITIONING_SCALE
                        : given.controlnetConditioningScale(),
                given.controlGuidanceStart() == null
                        ? ControlNetUnit.DEFAULT_GUIDANCE_START
                        : given.controlGuidanceStart(),
                given.controlGuidanceEnd() == null
                        ? ControlNetUnit.DEFAULT_GUIDANCE_END
                        : given.controlGuidanceEnd());
    }

    /**
     * Reads a row's init picture and mask once (see the class comment); a problem with either is
     * added to {@code problems} under its column.
     *
     * @return what was read, or null when a picture is unusable
     */
    InputPictures.Read readPictures(PromptRow row, List<Problem> problems) {
        if (pictures == null) {
            problems.add(
                    new Problem(
                            Columns.INIT_IMAGE,
                            RowValidator.show(row.parameters().initImage()),
                            "this job reads no pictures (no picture reader configured)"));
            return null;
        }
        PictureFiles.Loaded init = load(Columns.INIT_IMAGE, row.parameters().initImage(), problems);
        String maskLocation = row.parameters().maskImage();
        PictureFiles.Loaded mask =
                maskLocation == null ? null : load(Columns.MASK_IMAGE, maskLocation, problems);
        if (init == null || (maskLocation != null && mask == null)) {
            return null;
        }
        String warning =
                mask != null && PictureDecoder.isAllBlack(mask.image())
                        ? "mask_image "
                                + mask.uri()
                                + " is all black: nothing to repaint (white = repaint); generated"
                                + " anyway"
                        : null;
        return new InputPictures.Read(
                init.uri(),
                init.sha256(),
                init.image().width(),
                init.image().height(),
                mask == null ? null : mask.uri(),
                mask == null ? null : mask.sha256(),
                warning);
    }

    private PictureFiles.Loaded load(String column, String location, List<Problem> problems) {
        try {
            return pictures.load(location);
        } catch (PictureProblem e) {
            problems.add(new Problem(column, RowValidator.show(location), e.getMessage()));
            return null;
        }
    }

    /**
     * The defaults of a row with an init picture: its size is the picture's, rounded down to a
     * multiple of 8 as diffusers' image processor rounds it, unless a size flag names one. The size
     * the row ends up with must be at least 8 × 8 and within the pixel limit.
     */
    RequestDefaults pictureDefaults(
            PromptRow row, InputPictures.Read read, List<Problem> problems) {
        return sizedDefaults(
                row,
                Columns.INIT_IMAGE,
                row.parameters().initImage(),
                read.initImage(),
                read.initWidth(),
                read.initHeight(),
                problems);
    }

    /**
     * The defaults of a row whose size comes from a picture ({@code uri}, written as {@code
     * written} in {@code column}) of {@code pw} x {@code ph} pixels: see {@link #pictureDefaults}.
     */
    RequestDefaults sizedDefaults(
            PromptRow row,
            String column,
            String written,
            String uri,
            int pw,
            int ph,
            List<Problem> problems) {
        RequestDefaults base = defaults;
        int w = widthFlag != null ? widthFlag : pw / 8 * 8;
        int h = heightFlag != null ? heightFlag : ph / 8 * 8;
        RequestDefaults d = base.withSize(w, h);
        int ew = row.parameters().width() != null ? row.parameters().width() : w;
        int eh = row.parameters().height() != null ? row.parameters().height() : h;
        String size = pw + "x" + ph;
        if (ew < 8 || eh < 8) {
            problems.add(
                    new Problem(
                            column,
                            RowValidator.show(written),
                            "picture "
                                    + uri
                                    + " is "
                                    + size
                                    + ": a side under 8 pixels leaves no size to generate (give"
                                    + " width and height)"));
        } else if ((long) ew * eh > d.maxPixels()) {
            problems.add(
                    new Problem(
                            "width x height",
                            ew + "x" + eh,
                            "(from picture "
                                    + uri
                                    + ") has "
                                    + (long) ew * eh
                                    + " pixels, more than the limit of "
                                    + d.maxPixels()));
        }
        return d;
    }
}
