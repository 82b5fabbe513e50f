package sdbatch.schemas;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * One fully resolved generation request: the unit the pipeline runs and the unit of one output
 * image and one metadata row. Small and {@link Serializable} (it crosses the Spark wire).
 *
 * <p>Every field is resolved: the value comes from the row's own column if set, else from the
 * command-line flag or sweep, else from the model's default (precedence <em>row column &gt; CLI
 * flag/sweep &gt; model default</em>, applied by {@code sweep.SweepExpander}). Conventions for
 * "none": {@code negativePrompt} is {@code ""} (diffusers encodes a missing negative prompt as the
 * empty prompt, so the two are the same image), {@code schedulerConfig} is {@code {}}, {@code
 * clipSkip} is 0 (diffusers' {@code clip_skip=None} and {@code 0} both use the last layer followed
 * by the final layer norm), {@code eta} is 0 (diffusers' default).
 *
 * <p>The constructor checks only shape (non-null, finite, canonical JSON); the value rules (steps
 * range, multiples of 8, ...) are {@code validate.RowValidator}'s.
 *
 * @param prompt the prompt (may be empty)
 * @param negativePrompt the negative prompt, {@code ""} for none
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
        Map<String, Object> passthrough)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Checks shape and canonicalises {@code schedulerConfig}. */
    public GenerationRequest {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(negativePrompt, "negativePrompt");
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

    /** Whether this request has a negative prompt. */
    public boolean hasNegativePrompt() {
        return !negativePrompt.isEmpty();
    }

    /**
     * The request as one JSON object (the PNG {@code sdbatch} chunk): the generation parameters
     * under their {@link Columns} names plus {@code source_row}, {@code source_id}, {@code
     * expansion_index}; {@code scheduler_config} is embedded as an object. Passthrough columns are
     * not included (they are user data, not parameters). Key order is fixed, so the text is
     * deterministic.
     */
    public String toJson() {
        JsonObject o = new JsonObject();
        o.addProperty(Columns.PROMPT, prompt);
        o.addProperty(Columns.NEGATIVE_PROMPT, negativePrompt);
        o.addProperty(Columns.SEED, seed);
        o.addProperty(Columns.STEPS, steps);
        o.addProperty(Columns.GUIDANCE_SCALE, guidanceScale);
        o.addProperty(Columns.SCHEDULER, scheduler);
        o.add(Columns.SCHEDULER_CONFIG, JsonParser.parseString(schedulerConfig));
        o.addProperty(Columns.WIDTH, width);
        o.addProperty(Columns.HEIGHT, height);
        o.addProperty(Columns.ETA, eta);
        o.addProperty(Columns.CLIP_SKIP, clipSkip);
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
            JsonElement sc = o.get(Columns.SCHEDULER_CONFIG);
            return new GenerationRequest(
                    o.get(Columns.PROMPT).getAsString(),
                    o.get(Columns.NEGATIVE_PROMPT).getAsString(),
                    o.get(Columns.SEED).getAsLong(),
                    o.get(Columns.STEPS).getAsInt(),
                    o.get(Columns.GUIDANCE_SCALE).getAsDouble(),
                    o.get(Columns.SCHEDULER).getAsString(),
                    sc.isJsonObject() ? SchedulerConfigJson.canonical(sc) : sc.getAsString(),
                    o.get(Columns.WIDTH).getAsInt(),
                    o.get(Columns.HEIGHT).getAsInt(),
                    o.get(Columns.ETA).getAsDouble(),
                    o.get(Columns.CLIP_SKIP).getAsInt(),
                    o.get(Columns.SOURCE_ROW).getAsLong(),
                    o.get(Columns.SOURCE_ID).getAsString(),
                    o.get(Columns.EXPANSION_INDEX).getAsInt(),
                    Map.of());
        } catch (NullPointerException | UnsupportedOperationException | IllegalStateException e) {
            throw new IllegalArgumentException("not a GenerationRequest JSON object: " + json, e);
        }
    }
}
