package sdbatch.schemas;

import java.io.Serializable;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The generation parameters of one image under diffusers' meaning, as a row or a request states
 * them: the columns an input row and a metadata row have in common ({@link #COLUMNS}), said once
 * for {@link PromptRow}, {@link ResultRow} and {@link GenerationRequest#parameters()}.
 *
 * <p>Every field is nullable (those of {@link #extra()} too, which itself never is): null is "not
 * given" in a {@link PromptRow} (the flag, sweep or model default applies, or the value could not
 * be converted and is in {@link PromptRow#rejected()}), and "what the row said" in the metadata of
 * an invalid row. A resolved {@link GenerationRequest} gives every field but the SDXL/SD3 ones.
 *
 * @param prompt the prompt
 * @param negativePrompt the negative prompt
 * @param seed the noise seed (torch uses its low 32 bits)
 * @param steps number of denoising steps
 * @param guidanceScale classifier-free guidance scale
 * @param scheduler scheduler name (canonical alias once resolved)
 * @param schedulerConfig scheduler config overrides as JSON text (canonical once resolved)
 * @param width image width in pixels
 * @param height image height in pixels
 * @param eta DDIM eta
 * @param clipSkip text-encoder layers skipped (diffusers meaning)
 * @param initImage img2img/inpainting picture location (as written in a row; the absolute URI once
 *     resolved), null for text-to-image
 * @param maskImage inpainting mask location, null unless inpainting
 * @param strength img2img/inpainting strength, null for text-to-image (or the default in a row)
 * @param pasteBack inpainting: whether the result is pasted back over the original
 * @param loras the LoRA set as written ({@code URI[:weight];...}); in a resolved request the
 *     absolute URIs and weights ({@link Adapters#lorasText})
 * @param controlnet the ControlNet folder as written (absolute URI once resolved), or null
 * @param controlImage the control picture as written (absolute URI once resolved), or null
 * @param controlnetConditioningScale diffusers' {@code controlnet_conditioning_scale}, or null
 * @param controlGuidanceStart diffusers' {@code control_guidance_start}, or null
 * @param controlGuidanceEnd diffusers' {@code control_guidance_end}, or null
 * @param extra the SDXL and SD3 columns and guidance rescale (issues 16, 19) as the row states
 *     them; never null ({@link ExtraConditioning#NONE} for none, and for null)
 */
public record GenerationParameters(
        String prompt,
        String negativePrompt,
        Long seed,
        Integer steps,
        Double guidanceScale,
        String scheduler,
        String schedulerConfig,
        Integer width,
        Integer height,
        Double eta,
        Integer clipSkip,
        String initImage,
        String maskImage,
        Double strength,
        Boolean pasteBack,
        // LoRA and ControlNet (issue 18): as written in a row; resolved in a request
        String loras,
        String controlnet,
        String controlImage,
        Double controlnetConditioningScale,
        Double controlGuidanceStart,
        Double controlGuidanceEnd,
        // SDXL and SD3 (issues 16, 19); guidance rescale for every family
        ExtraConditioning extra)
        implements Serializable {

    /**
     * The parameter columns: the names of {@link Columns#INPUT}, in that order (the components'
     * order). Every input column is a generation parameter; the rest of a row is passthrough.
     */
    public static final List<String> COLUMNS = Columns.INPUT.stream().map(Column::name).toList();

    /** Takes a null {@code extra} as none given. */
    public GenerationParameters {
        extra = extra == null ? ExtraConditioning.NONE : extra;
    }

    /**
     * The parameters held by a column → value map whose values already have their columns' Java
     * types (absent keys are null).
     *
     * @throws ClassCastException when a value has another type than its column's
     */
    public static GenerationParameters fromValues(Map<String, ?> values) {
        return new GenerationParameters(
                (String) values.get(Columns.PROMPT),
                (String) values.get(Columns.NEGATIVE_PROMPT),
                (Long) values.get(Columns.SEED),
                (Integer) values.get(Columns.STEPS),
                (Double) values.get(Columns.GUIDANCE_SCALE),
                (String) values.get(Columns.SCHEDULER),
                (String) values.get(Columns.SCHEDULER_CONFIG),
                (Integer) values.get(Columns.WIDTH),
                (Integer) values.get(Columns.HEIGHT),
                (Double) values.get(Columns.ETA),
                (Integer) values.get(Columns.CLIP_SKIP),
                (String) values.get(Columns.INIT_IMAGE),
                (String) values.get(Columns.MASK_IMAGE),
                (Double) values.get(Columns.STRENGTH),
                (Boolean) values.get(Columns.PASTE_BACK),
                (String) values.get(Columns.LORAS),
                (String) values.get(Columns.CONTROLNET),
                (String) values.get(Columns.CONTROL_IMAGE),
                (Double) values.get(Columns.CONTROLNET_CONDITIONING_SCALE),
                (Double) values.get(Columns.CONTROL_GUIDANCE_START),
                (Double) values.get(Columns.CONTROL_GUIDANCE_END),
                new ExtraConditioning(
                        (String) values.get(Columns.PROMPT_2),
                        (String) values.get(Columns.NEGATIVE_PROMPT_2),
                        (String) values.get(Columns.PROMPT_3),
                        (String) values.get(Columns.NEGATIVE_PROMPT_3),
                        (Integer) values.get(Columns.MAX_SEQUENCE_LENGTH),
                        (Integer) values.get(Columns.ORIGINAL_WIDTH),
                        (Integer) values.get(Columns.ORIGINAL_HEIGHT),
                        (Integer) values.get(Columns.CROP_TOP),
                        (Integer) values.get(Columns.CROP_LEFT),
                        (Integer) values.get(Columns.TARGET_WIDTH),
                        (Integer) values.get(Columns.TARGET_HEIGHT),
                        (Double) values.get(Columns.GUIDANCE_RESCALE)));
    }

    /**
     * A copy with each of {@code columns} set to its value in {@code values} (a missing key: null);
     * the other fields are kept.
     *
     * @throws ClassCastException when a value has another type than its column's
     */
    public GenerationParameters with(List<String> columns, Map<String, ?> values) {
        Map<String, Object> all = new java.util.HashMap<>();
        for (String c : COLUMNS) {
            all.put(c, columns.contains(c) ? values.get(c) : value(c));
        }
        return fromValues(all);
    }

    /**
     * A copy with {@code column}, one of {@link #COLUMNS}, set to {@code value} (null allowed).
     *
     * @throws ClassCastException when the value has another type than its column's
     */
    public GenerationParameters with(String column, Object value) {
        return with(List.of(column), Collections.singletonMap(column, value));
    }

    /** A copy with other SDXL/SD3 columns and guidance rescale (null = none). */
    public GenerationParameters withExtra(ExtraConditioning newExtra) {
        ExtraConditioning e = newExtra == null ? ExtraConditioning.NONE : newExtra;
        return with(ExtraConditioning.COLUMNS, e.values());
    }

    /**
     * The value of one of {@link #COLUMNS}.
     *
     * @throws IllegalArgumentException for any other name
     */
    public Object value(String column) {
        if (ExtraConditioning.COLUMNS.contains(column)) {
            return extra.value(column);
        }
        return switch (column) {
            case Columns.PROMPT -> prompt;
            case Columns.NEGATIVE_PROMPT -> negativePrompt;
            case Columns.SEED -> seed;
            case Columns.STEPS -> steps;
            case Columns.GUIDANCE_SCALE -> guidanceScale;
            case Columns.SCHEDULER -> scheduler;
            case Columns.SCHEDULER_CONFIG -> schedulerConfig;
            case Columns.WIDTH -> width;
            case Columns.HEIGHT -> height;
            case Columns.ETA -> eta;
            case Columns.CLIP_SKIP -> clipSkip;
            case Columns.INIT_IMAGE -> initImage;
            case Columns.MASK_IMAGE -> maskImage;
            case Columns.STRENGTH -> strength;
            case Columns.PASTE_BACK -> pasteBack;
            case Columns.LORAS -> loras;
            case Columns.CONTROLNET -> controlnet;
            case Columns.CONTROL_IMAGE -> controlImage;
            case Columns.CONTROLNET_CONDITIONING_SCALE -> controlnetConditioningScale;
            case Columns.CONTROL_GUIDANCE_START -> controlGuidanceStart;
            case Columns.CONTROL_GUIDANCE_END -> controlGuidanceEnd;
            default ->
                    throw new IllegalArgumentException(
                            "column "
                                    + column
                                    + " is not a generation parameter; known: "
                                    + COLUMNS);
        };
    }
}
