package sdbatch.schemas;

import java.io.Serializable;
import java.util.Map;
import java.util.Objects;

/**
 * One fully resolved generation request: the unit the pipeline runs and the unit of one output
 * image and one metadata row. Small and {@link Serializable} (it crosses the Spark wire).
 *
 * <p>Every field is resolved: the value comes from the row's own column if set, else from the
 * command-line flag or sweep, else from the model's default (precedence <em>row column &gt; CLI
 * flag/sweep &gt; model default</em>, applied by {@code sweep.SweepExpander}). Conventions for
 * "none": {@code negativePrompt} is {@code ""} (diffusers' SD 1.x/2.x and SD3 pipelines encode a
 * missing negative prompt as the empty prompt, so the two are the same image) except on a model
 * where they differ (SDXL's {@code force_zeros_for_empty_prompt}: none = zero embeddings, {@code
 * ""} = the encoded empty text), where none is null; {@code schedulerConfig} is {@code {}}, {@code
 * clipSkip} is 0 (diffusers' {@code clip_skip=None} and {@code 0} both use the last layer followed
 * by the final layer norm), {@code eta} is 0 (diffusers' default).
 *
 * <p>The constructor checks only shape (non-null, finite, canonical JSON); the value rules (steps
 * range, multiples of 8, ...) are {@code validate.RowValidator}'s.
 *
 * @param prompt the prompt (may be empty)
 * @param negativePrompt the negative prompt, {@code ""} for none; null for none only where the
 *     model tells none from {@code ""} (see above)
 * @param seed the noise seed (torch uses its low 32 bits)
 * @param steps number of denoising steps
 * @param guidanceScale classifier-free guidance scale ({@code <= 1} disables CFG, as in diffusers)
 * @param scheduler canonical scheduler alias (see {@link SchedulerNames})
 * @param schedulerConfig canonical JSON object of config overrides ({@link SchedulerConfigJson})
 * @param width image width in pixels
 * @param height image height in pixels
 * @param eta DDIM eta
 * @param clipSkip text-encoder layers skipped (diffusers meaning), 0 for none
 * @param sourceRow 0-based row number of the input row
 * @param sourceId the input row in messages (e.g. {@code prompts.csv:17})
 * @param expansionIndex index of this request in its row's expansion (0-based)
 * @param passthrough the row's passthrough columns, in table order (values must be Serializable)
 * @param pictures the img2img or inpainting pictures and strength, null for text-to-image
 * @param adapters the LoRA set and ControlNet, resolved (issue 18); null = none
 * @param extra the SDXL and SD3 columns and guidance rescale (issues 16, 19) the model uses, {@link
 *     ExtraConditioning#canonical}; null = none set (every one at diffusers' default)
 */
public record GenerationRequest(
        String prompt,
        String negativePrompt,
        long seed,
        int steps,
        double guidanceScale,
        String scheduler,
        String schedulerConfig,
        int width,
        int height,
        double eta,
        int clipSkip,
        long sourceRow,
        String sourceId,
        int expansionIndex,
        Map<String, Object> passthrough,
        InputPictures pictures,
        Adapters adapters,
        ExtraConditioning extra)
        implements Serializable {

    /** Checks shape and canonicalises {@code schedulerConfig} and {@code extra}. */
    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(sourceId, "sourceId");
        guidanceScale = finite("guidanceScale", guidanceScale);
        eta = finite("eta", eta);
        schedulerConfig = SchedulerConfigJson.canonical(schedulerConfig);
        extra = ExtraConditioning.canonical(extra);
        passthrough = PromptRow.orderedCopy(passthrough);
    }

    /**
     * {@code value}, checked finite, with -0.0 as 0.0: they are the same setting, and one of them
     * is kept so ids and JSON agree.
     */
    private static double finite(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " " + value + " is not finite");
        }
        return value + 0.0;
    }

    /** The same request with other pictures (null = text-to-image); adapters are kept. */
    public GenerationRequest withPictures(InputPictures newPictures) {
        return with(parameters(), newPictures, adapters);
    }

    /** The same request with other adapters (null = none). */
    public GenerationRequest withAdapters(Adapters newAdapters) {
        return with(parameters(), pictures, newAdapters);
    }

    /** The same request with another prompt (a prompt's LoRA tags taken out). */
    public GenerationRequest withPrompt(String newPrompt) {
        return with(parameters().with(Columns.PROMPT, newPrompt), pictures, adapters);
    }

    /** The same request with other SDXL/SD3 columns and guidance rescale (null = none). */
    public GenerationRequest withExtra(ExtraConditioning newExtra) {
        return with(parameters().withExtra(newExtra), pictures, adapters);
    }

    /**
     * The same request with another negative prompt: null for "none" on a model that tells none
     * from {@code ""} (SDXL), see the class comment.
     */
    public GenerationRequest withNegativePrompt(String newNegativePrompt) {
        return with(
                parameters().with(Columns.NEGATIVE_PROMPT, newNegativePrompt), pictures, adapters);
    }

    /**
     * This request's row, expansion and passthrough with other parameters, pictures and adapters:
     * every copy goes through {@link #of}, so the parameters are copied in one place ({@code p}'s
     * picture and adapter columns are ignored, as there).
     */
    private GenerationRequest with(
            GenerationParameters p, InputPictures newPictures, Adapters newAdapters) {
        return of(p, sourceRow, sourceId, expansionIndex, passthrough, newPictures, newAdapters);
    }

    /** Whether this request has a negative prompt. */
    public boolean hasNegativePrompt() {
        return negativePrompt != null && !negativePrompt.isEmpty();
    }

    /**
     * The request as one JSON object (the PNG {@code sdbatch} chunk): the generation parameters
     * under their {@link Columns} names plus {@code source_row}, {@code source_id}, {@code
     * expansion_index}; {@code scheduler_config} is embedded as an object; an img2img or inpainting
     * request adds its pictures' locations and SHA-256s, strength and paste-back (a text-to-image
     * request has none of these keys); the SDXL/SD3 columns and guidance rescale appear only when
     * set, and {@code negative_prompt} is left out when it is null (none, on SDXL). Passthrough
     * columns are not included (they are user data, not parameters). Key order is fixed, so the
     * text is deterministic.
     */
    public String toJson() {
        return RequestJson.write(this);
    }

    /**
     * Parses {@link #toJson()} output back (passthrough is empty).
     *
     * @throws IllegalArgumentException when a key is missing or has the wrong type
     */
    public static GenerationRequest fromJson(String json) {
        return RequestJson.read(json);
    }

    /** The generation parameters of this request, every one given. */
    public GenerationParameters parameters() {
        return new GenerationParameters(
                prompt,
                negativePrompt,
                seed,
                steps,
                guidanceScale,
                scheduler,
                schedulerConfig,
                width,
                height,
                eta,
                clipSkip,
                pictures == null ? null : pictures.initImage(),
                pictures == null ? null : pictures.maskImage(),
                pictures == null ? null : pictures.strength(),
                pictures == null ? null : pictures.pasteBack(),
                adapters == null ? null : adapters.lorasText(),
                controlNet() == null ? null : controlNet().uri(),
                controlNet() == null ? null : controlNet().controlImage(),
                controlNet() == null ? null : controlNet().conditioningScale(),
                controlNet() == null ? null : controlNet().guidanceStart(),
                controlNet() == null ? null : controlNet().guidanceEnd(),
                extra);
    }

    /** The request's ControlNet, or null. */
    public Adapters.ControlNetUse controlNet() {
        return adapters == null ? null : adapters.controlNet();
    }

    /**
     * A request with the given parameters and pictures; the picture parameters of {@code p} are
     * ignored ({@code pictures} holds them with their hashes), its SDXL/SD3 columns and guidance
     * rescale kept ({@link ExtraConditioning#canonical}).
     *
     * @throws NullPointerException when a parameter is null (a request gives every parameter)
     */
    public static GenerationRequest of(
            GenerationParameters p,
            long sourceRow,
            String sourceId,
            int expansionIndex,
            Map<String, Object> passthrough,
            InputPictures pictures) {
        return of(p, sourceRow, sourceId, expansionIndex, passthrough, pictures, null);
    }

    private static GenerationRequest of(
            GenerationParameters p,
            long sourceRow,
            String sourceId,
            int expansionIndex,
            Map<String, Object> passthrough,
            InputPictures pictures,
            Adapters adapters) {
        return new GenerationRequest(
                p.prompt(),
                p.negativePrompt(),
                p.seed(),
                p.steps(),
                p.guidanceScale(),
                p.scheduler(),
                p.schedulerConfig(),
                p.width(),
                p.height(),
                p.eta(),
                p.clipSkip(),
                sourceRow,
                sourceId,
                expansionIndex,
                passthrough,
                pictures,
                adapters,
                p.extra());
    }

    /**
     * A text-to-image request with the given parameters.
     *
     * @throws NullPointerException when a parameter is null (a request gives every parameter)
     */
    public static GenerationRequest of(
            GenerationParameters p,
            long sourceRow,
            String sourceId,
            int expansionIndex,
            Map<String, Object> passthrough) {
        return of(p, sourceRow, sourceId, expansionIndex, passthrough, null);
    }
}
