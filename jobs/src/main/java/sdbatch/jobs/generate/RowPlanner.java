package sdbatch.jobs.generate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.stream.Stream;
import sdbatch.jobs.adapters.ControlNetFiles;
import sdbatch.jobs.adapters.LoraFiles;
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.schemas.Columns;
import sdbatch.schemas.ExtraConditioning;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.ResultRow;
import sdbatch.schemas.metadata.ImageId;
import sdbatch.schemas.sweep.SweepExpander;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.RowValidator;
import sdbatch.schemas.validate.ValidationResult;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * The pure step between a prompt-table row and its requests: {@link RowValidator#validate} against
 * the model's {@link RequestDefaults}, then {@link SweepExpander#expand} over the job's sweep, then
 * {@link ImageId#of} with the model identity. An invalid row becomes one {@link ResultRow#invalid}
 * naming the column, value and rule; it is never dropped.
 *
 * <p>Runs on executors, so it is serializable and carries only small specs ({@link ModelFacts}, the
 * {@link SweepSpec}, the size flags, the {@link PictureFiles} reader); the scheduler-aware {@link
 * RequestDefaults} (which holds functions) is rebuilt lazily in each JVM.
 *
 * <p><b>Rows with pictures</b> ({@code init_image}, {@code mask_image}) are read by {@link
 * RowInputs} (with the row's LoRAs and ControlNet), once per row however many requests its sweep
 * makes: each picture's bytes are hashed (the image id hashes content, not locations) and decoded,
 * so a missing, unreadable, truncated or non-picture file, or one over the pixel limit, makes the
 * row invalid with the file and the reason; an all-black mask is generated with a warning. A row
 * without a size takes its picture's, rounded down to a multiple of 8 (diffusers' {@code
 * VaeImageProcessor}), unless {@code --width}/{@code --height} say otherwise. The decoded pictures
 * are dropped: the generating task reads them again (and checks their hashes), so only small specs
 * cross the shuffle.
 */
public final class RowPlanner implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The texts an invalid row's metadata keeps cut to their bounds ({@link #invalid}). */
    private static final List<String> BOUNDED_TEXTS =
            Stream.concat(
                            Stream.of(
                                    Columns.PROMPT,
                                    Columns.NEGATIVE_PROMPT,
                                    Columns.SCHEDULER_CONFIG),
                            ExtraConditioning.PROMPTS.stream())
                    .toList();

    private final ModelFacts model;
    private final SweepSpec sweep;
    private final Integer widthFlag;
    private final Integer heightFlag;
    // img2img and inpainting (issue 17): null = rows naming a picture are invalid
    private PictureFiles pictures;
    private transient RequestDefaults defaults;
    // LoRA (issue 18): null = rows naming LoRAs are invalid
    private LoraFiles loraFiles;
    // ControlNet (issue 18): null = rows naming a ControlNet are invalid
    private ControlNetFiles controlNetFiles;

    /**
     * @param model what the driver learned from the model
     * @param sweep the sweep flags
     * @param widthFlag {@code --width}, or null
     * @param heightFlag {@code --height}, or null
     */
    public RowPlanner(ModelFacts model, SweepSpec sweep, Integer widthFlag, Integer heightFlag) {
        this.model = Objects.requireNonNull(model, "model");
        this.sweep = Objects.requireNonNull(sweep, "sweep");
        this.widthFlag = widthFlag;
        this.heightFlag = heightFlag;
    }

    /**
     * This planner reading the rows' pictures with {@code files} (null = a row with an {@code
     * init_image} is invalid); returns this.
     */
    public RowPlanner withPictures(PictureFiles files) {
        this.pictures = files;
        return this;
    }

    /** The picture reader, or null. */
    public PictureFiles pictures() {
        return pictures;
    }

    /** This planner resolving LoRAs with {@code files} (null = none may be named); returns this. */
    public RowPlanner withLoraFiles(LoraFiles files) {
        this.loraFiles = files;
        return this;
    }

    /**
     * This planner reading ControlNets with {@code files} (null = none may be named); returns this.
     */
    public RowPlanner withControlNetFiles(ControlNetFiles files) {
        this.controlNetFiles = files;
        return this;
    }

    /** The ControlNet reader, or null. */
    public ControlNetFiles controlNetFiles() {
        return controlNetFiles;
    }

    /** The LoRA reader, or null. */
    public LoraFiles loraFiles() {
        return loraFiles;
    }

    /** The model facts. */
    public ModelFacts model() {
        return model;
    }

    /** The sweep. */
    public SweepSpec sweep() {
        return sweep;
    }

    /** The validation defaults (built once per JVM). */
    public RequestDefaults defaults() {
        RequestDefaults d = defaults;
        if (d == null) {
            d = model.defaults(widthFlag, heightFlag);
            defaults = d;
        }
        return d;
    }

    /**
     * Problems with the job's own settings: the sweep values and the defaults every row without its
     * own value gets (flag sizes, the model's size and scheduler). Checked once on the driver; any
     * problem stops the job before it starts.
     */
    public List<Problem> checkJob() {
        RequestDefaults d = defaults();
        List<Problem> p = new ArrayList<>(sweep.validate(d));
        GenerationRequest probe =
                new GenerationRequest(
                        "",
                        "",
                        0,
                        d.steps(),
                        d.guidanceScale(),
                        d.scheduler(),
                        "{}",
                        d.width(),
                        d.height(),
                        d.eta(),
                        d.clipSkip(),
                        0,
                        "defaults",
                        0,
                        null,
                        /* pictures= */ null,
                        /* adapters= */ null,
                        /* extra= */ null);
        for (Problem q : RowValidator.check(probe, d)) {
            String column = q.column();
            if (column.equals("width") && widthFlag != null) {
                column = "--width";
            } else if (column.equals("height") && heightFlag != null) {
                column = "--height";
            } else {
                column = "model default " + column;
            }
            p.add(new Problem(column, q.value(), q.rule()));
        }
        return p;
    }

    /** Validates one row. */
    public ValidationResult validate(PromptRow row) {
        return RowValidator.validate(row, defaults());
    }

    /**
     * The metadata row of an invalid row. A text over its bound ({@link
     * RowValidator#MAX_PROMPT_CHARS}, {@link RowValidator#MAX_SCHEDULER_CONFIG_CHARS}) is kept cut
     * to the bound: the row is there with its error (which gives the full length), but a 200 MB
     * prompt is not copied into the metadata table.
     */
    public ResultRow invalid(ValidationResult.Invalid invalid) {
        ResultRow r = ResultRow.invalid(invalid.row(), invalid.message(), model.identity(), null);
        GenerationParameters p = r.parameters();
        if (p == null) {
            return r;
        }
        Map<String, String> kept = new HashMap<>();
        for (String column : BOUNDED_TEXTS) {
            String text = (String) p.value(column);
            int max =
                    column.equals(Columns.SCHEDULER_CONFIG)
                            ? RowValidator.MAX_SCHEDULER_CONFIG_CHARS
                            : RowValidator.MAX_PROMPT_CHARS;
            if (text != null && text.length() > max) {
                kept.put(column, text.substring(0, max));
            }
        }
        return kept.isEmpty() ? r : r.withParameters(p.with(List.copyOf(kept.keySet()), kept));
    }

    /** The metadata row of a row that could not even be read (e.g. a line that is not JSON). */
    public ResultRow unreadable(PromptRow row, String error) {
        return ResultRow.invalid(row, error, model.identity(), null);
    }

    /** How many requests a valid row expands into. */
    public long count(ValidationResult.Valid valid) {
        return SweepExpander.count(valid.row(), sweep);
    }

    /**
     * Plans one input row: the metadata row of an invalid row (one that could not be read, or that
     * fails validation), or the row's expanded requests, lazily.
     *
     * @param row the row as read
     * @param corruptRecord the raw text of a line that is not valid JSON, or null
     */
    public Iterator<RequestOrInvalid> plan(PromptRow row, String corruptRecord) {
        if (corruptRecord != null) {
            String error =
                    "row "
                            + row.rowNumber()
                            + " is not valid JSON: "
                            + (corruptRecord.length() > 200
                                    ? corruptRecord.substring(0, 200) + "…"
                                    : corruptRecord);
            return List.of(RequestOrInvalid.invalid(unreadable(row, error))).iterator();
        }
        ValidationResult v = validate(row);
        if (v instanceof ValidationResult.Invalid inv) {
            return List.of(RequestOrInvalid.invalid(invalid(inv))).iterator();
        }
        ValidationResult.Valid valid = (ValidationResult.Valid) v;
        List<Problem> problems = new ArrayList<>();
        InputPictures.Read read = null;
        RequestDefaults d = defaults();
        RowInputs inputs =
                new RowInputs(pictures, loraFiles, controlNetFiles, widthFlag, heightFlag, d);
        if (row.parameters().initImage() != null) {
            read = inputs.readPictures(row, problems);
            d = read == null ? null : inputs.pictureDefaults(row, read, problems);
            if (read != null) {
                problems.addAll(
                        SweepExpander.checkSchedules(row, sweep, d, read.maskImage() != null));
            }
        }
        RowInputs.Adapted adapted = inputs.adapt(row, problems);
        if (read == null
                && adapted != null
                && adapted.adapters() != null
                && adapted.adapters().controlNet() != null) {
            // diffusers' ControlNet pipeline takes a row's default size from its control picture,
            // rounded down to the VAE's multiple, as img2img takes it from the init picture.
            d =
                    inputs.sizedDefaults(
                            row,
                            Columns.CONTROL_IMAGE,
                            row.parameters().controlImage(),
                            adapted.adapters().controlNet().controlImage(),
                            adapted.controlSize()[0],
                            adapted.controlSize()[1],
                            problems);
        }
        if (!problems.isEmpty()) {
            return List.of(
                            RequestOrInvalid.invalid(
                                    invalid(new ValidationResult.Invalid(row, problems))))
                    .iterator();
        }
        return map(expand(valid, d, read, adapted), RequestOrInvalid::of);
    }

    /** The requests of a valid row, lazily, with their image ids (ordinals not yet assigned). */
    public Iterator<PlannedRequest> expand(ValidationResult.Valid valid) {
        return expand(valid, defaults(), null, null);
    }

    private Iterator<PlannedRequest> expand(
            ValidationResult.Valid valid,
            RequestDefaults d,
            InputPictures.Read read,
            RowInputs.Adapted adapted) {
        String identity = model.identity();
        FamilyColumns family = model.family();
        boolean noNegative = valid.row().parameters().negativePrompt() == null;
        return map(
                SweepExpander.expand(valid, sweep, d, read),
                r -> {
                    GenerationRequest q =
                            adapted == null
                                    ? r
                                    : r.withPrompt(adapted.prompt())
                                            .withAdapters(adapted.adapters());
                    // SDXL/SD3 columns the model's family does not use are dropped; a null
                    // negative prompt stays null where it is another image (SDXL's zeros).
                    q = family.apply(q, noNegative);
                    return new PlannedRequest(-1, ImageId.of(identity, q), q, List.of());
                });
    }

    /**
     * {@code it} with {@code f} applied to each element as it is taken (a row may expand lazily).
     */
    private static <A, B> Iterator<B> map(Iterator<A> it, Function<A, B> f) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public B next() {
                return f.apply(it.next());
            }
        };
    }
}
