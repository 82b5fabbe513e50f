package sdbatch.schemas;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.Serializable;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
 * @param extra the SDXL and SD3 columns and guidance rescale (issues 16, 19) the model uses; null =
 *     none set (every one at diffusers' default)
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

    private static final long serialVersionUID = 1L;

    /** The input columns {@link #pictures} stands for (absent from a text-to-image request). */
    private static final List<String> PICTURE_COLUMNS =
            List.of(Columns.INIT_IMAGE, Columns.MASK_IMAGE, Columns.STRENGTH, Columns.PASTE_BACK);

    /** The input columns {@link #adapters} stands for (absent from a request without them). */
    private static final List<String> ADAPTER_COLUMNS =
            List.of(
                    Columns.LORAS,
                    Columns.CONTROLNET,
                    Columns.CONTROL_IMAGE,
                    Columns.CONTROLNET_CONDITIONING_SCALE,
                    Columns.CONTROL_GUIDANCE_START,
                    Columns.CONTROL_GUIDANCE_END);

    /** A text-to-image request without pictures, LoRAs or ControlNet. */
    public GenerationRequest(
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
            Map<String, Object> passthrough) {
        this(
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
                sourceRow,
                sourceId,
                expansionIndex,
                passthrough,
                null,
                null,
                null);
    }

    /** A request without the SDXL and SD3 columns (issues 16, 19). */
    public GenerationRequest(
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
            Adapters adapters) {
        this(
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
                sourceRow,
                sourceId,
                expansionIndex,
                passthrough,
                pictures,
                adapters,
                null);
    }

    /** Checks shape and canonicalises {@code schedulerConfig}. */
    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(sourceId, "sourceId");
        if (!Double.isFinite(guidanceScale)) {
            throw new IllegalArgumentException("guidanceScale " + guidanceScale + " is not finite");
        }
        if (!Double.isFinite(eta)) {
            throw new IllegalArgumentException("eta " + eta + " is not finite");
        }
        // -0.0 and 0.0 are the same setting; keep one so ids and JSON agree.
        guidanceScale += 0.0;
        eta += 0.0;
        schedulerConfig = SchedulerConfigJson.canonical(schedulerConfig);
        passthrough =
                Collections.unmodifiableMap(
                        new LinkedHashMap<>(passthrough == null ? Map.of() : passthrough));
    }

    /** The same request with other pictures (null = text-to-image); adapters are kept. */
    public GenerationRequest withPictures(InputPictures newPictures) {
        return copy(prompt, newPictures, adapters);
    }

    /** The same request with other adapters (null = none). */
    public GenerationRequest withAdapters(Adapters newAdapters) {
        return copy(prompt, pictures, newAdapters);
    }

    /** The same request with another prompt (a prompt's LoRA tags taken out). */
    public GenerationRequest withPrompt(String newPrompt) {
        return copy(newPrompt, pictures, adapters);
    }

    /** The same request with other SDXL/SD3 columns and guidance rescale (null = none). */
    public GenerationRequest withExtra(ExtraConditioning newExtra) {
        return copy(prompt, negativePrompt, pictures, adapters, newExtra);
    }

    /**
     * The same request with another negative prompt: null for "none" on a model that tells none
     * from {@code ""} (SDXL), see the class comment.
     */
    public GenerationRequest withNegativePrompt(String newNegativePrompt) {
        return copy(prompt, newNegativePrompt, pictures, adapters, extra);
    }

    private GenerationRequest copy(
            String newPrompt, InputPictures newPictures, Adapters newAdapters) {
        return copy(newPrompt, negativePrompt, newPictures, newAdapters, extra);
    }

    private GenerationRequest copy(
            String newPrompt,
            String newNegativePrompt,
            InputPictures newPictures,
            Adapters newAdapters,
            ExtraConditioning newExtra) {
        return new GenerationRequest(
                newPrompt,
                newNegativePrompt,
                seed,
                steps,
                guidanceScale,
                scheduler,
                schedulerConfig,
                width,
                height,
                eta,
                clipSkip,
                sourceRow,
                sourceId,
                expansionIndex,
                passthrough,
                newPictures,
                newAdapters,
                newExtra);
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
        JsonObject o = new JsonObject();
        GenerationParameters parameters = parameters();
        for (String column : GenerationParameters.COLUMNS) {
            if (PICTURE_COLUMNS.contains(column)
                    || ADAPTER_COLUMNS.contains(column)
                    || ExtraConditioning.COLUMNS.contains(column)) {
                continue;
            }
            Object value = parameters.value(column);
            if (value == null) {
                continue; // a null negative prompt (none, on SDXL)
            }
            if (column.equals(Columns.SCHEDULER_CONFIG)) {
                o.add(column, JsonParser.parseString(schedulerConfig));
            } else if (value instanceof Number n) {
                o.addProperty(column, n);
            } else {
                o.addProperty(column, (String) value);
            }
        }
        if (pictures != null) {
            o.addProperty(Columns.INIT_IMAGE, pictures.initImage());
            o.addProperty(Columns.INIT_IMAGE_SHA256, pictures.initImageSha256());
            if (pictures.isInpainting()) {
                o.addProperty(Columns.MASK_IMAGE, pictures.maskImage());
                o.addProperty(Columns.MASK_IMAGE_SHA256, pictures.maskImageSha256());
            }
            o.addProperty(Columns.STRENGTH, pictures.strength());
            o.addProperty(Columns.PASTE_BACK, pictures.pasteBack());
        }
        if (adapters != null) {
            adapters.addTo(o);
        }
        if (extra != null) {
            extra.addTo(o);
        }
        o.addProperty(Columns.SOURCE_ROW, sourceRow);
        o.addProperty(Columns.SOURCE_ID, sourceId);
        o.addProperty(Columns.EXPANSION_INDEX, expansionIndex);
        return new com.google.gson.GsonBuilder().disableHtmlEscaping().create().toJson(o);
    }

    /**
     * Parses {@link #toJson()} output back (passthrough is empty).
     *
     * @throws IllegalArgumentException when a key is missing or has the wrong type
     */
    public static GenerationRequest fromJson(String json) {
        JsonObject o = SchedulerConfigJson.parseObject(json);
        try {
            Map<String, Object> values = new HashMap<>();
            for (Column column : Columns.INPUT) {
                if (PICTURE_COLUMNS.contains(column.name())
                        || ADAPTER_COLUMNS.contains(column.name())
                        || ExtraConditioning.COLUMNS.contains(column.name())) {
                    continue;
                }
                JsonElement e = o.get(column.name());
                if (column.name().equals(Columns.NEGATIVE_PROMPT)
                        && (e == null || e.isJsonNull())) {
                    continue; // none, on SDXL
                }
                values.put(
                        column.name(),
                        switch (column.type()) {
                            case STRING ->
                                    column.name().equals(Columns.SCHEDULER_CONFIG)
                                                    && e.isJsonObject()
                                            ? SchedulerConfigJson.canonical(e)
                                            : e.getAsString();
                            case INT -> e.getAsInt();
                            case LONG -> e.getAsLong();
                            case DOUBLE -> e.getAsDouble();
                            case BOOLEAN -> e.getAsBoolean();
                            case TIMESTAMP ->
                                    throw new IllegalStateException(
                                            "no input column has type " + column.type());
                        });
            }
            return of(
                            GenerationParameters.fromValues(values),
                            o.get(Columns.SOURCE_ROW).getAsLong(),
                            o.get(Columns.SOURCE_ID).getAsString(),
                            o.get(Columns.EXPANSION_INDEX).getAsInt(),
                            Map.of(),
                            o.has(Columns.INIT_IMAGE) ? picturesFromJson(o) : null)
                    .withAdapters(Adapters.fromJson(o))
                    .withExtra(ExtraConditioning.fromJson(o));
        } catch (NullPointerException | UnsupportedOperationException | IllegalStateException e) {
            throw new IllegalArgumentException("not a GenerationRequest JSON object: " + json, e);
        }
    }

    private static InputPictures picturesFromJson(JsonObject o) {
        boolean mask = o.has(Columns.MASK_IMAGE);
        return new InputPictures(
                o.get(Columns.INIT_IMAGE).getAsString(),
                o.get(Columns.INIT_IMAGE_SHA256).getAsString(),
                mask ? o.get(Columns.MASK_IMAGE).getAsString() : null,
                mask ? o.get(Columns.MASK_IMAGE_SHA256).getAsString() : null,
                o.get(Columns.STRENGTH).getAsDouble(),
                o.get(Columns.PASTE_BACK).getAsBoolean(),
                null);
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
                extra == null ? null : extra.prompt2(),
                extra == null ? null : extra.negativePrompt2(),
                extra == null ? null : extra.prompt3(),
                extra == null ? null : extra.negativePrompt3(),
                extra == null ? null : extra.maxSequenceLength(),
                extra == null ? null : extra.originalWidth(),
                extra == null ? null : extra.originalHeight(),
                extra == null ? null : extra.cropTop(),
                extra == null ? null : extra.cropLeft(),
                extra == null ? null : extra.targetWidth(),
                extra == null ? null : extra.targetHeight(),
                extra == null ? null : extra.guidanceRescale());
    }

    /** The request's ControlNet, or null. */
    public Adapters.ControlNetUse controlNet() {
        return adapters == null ? null : adapters.controlNet();
    }

    /**
     * A request with the given parameters and pictures; the picture parameters of {@code p} are
     * ignored ({@code pictures} holds them with their hashes), its SDXL/SD3 columns and guidance
     * rescale kept ({@link ExtraConditioning#of}).
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
                null,
                ExtraConditioning.of(p, p.guidanceRescale()));
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
