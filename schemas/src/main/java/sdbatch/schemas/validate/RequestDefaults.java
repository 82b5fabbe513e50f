package sdbatch.schemas.validate;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;
import sdbatch.schemas.SchedulerNames;

/**
 * The model's defaults and the limits every request is checked against; driver-side, built once per
 * job from the model folder (size = UNet {@code sample_size} × VAE scale factor, scheduler = the
 * folder's, text-encoder layers from its config) and the job's flags.
 *
 * <p>The scheduler knowledge is supplied as functions ({@link SchedulerKnowledge}) so this module
 * need not know the pipeline.
 *
 * @param steps default steps (diffusers: 50)
 * @param guidanceScale default guidance scale (diffusers: 7.5; the model family's pipeline may say
 *     otherwise: SDXL 5.0, SD3 7.0)
 * @param img2imgStrength default img2img strength (diffusers' {@code
 *     StableDiffusionImg2ImgPipeline}: 0.8; SDXL's img2img pipeline: 0.3)
 * @param scheduler the model's scheduler (canonical alias)
 * @param width default width (UNet sample_size × VAE scale factor)
 * @param height default height
 * @param eta default eta (diffusers: 0)
 * @param clipSkip default clip skip (0 = none)
 * @param maxSteps largest accepted steps (1000: the training timesteps of every SD model)
 * @param maxPixels largest accepted width × height
 * @param textEncoderLayers hidden layers of the text encoder; clip_skip must be below it
 * @param schedulers the accepted scheduler names and override checks
 */
public record RequestDefaults(
        int steps,
        double guidanceScale,
        double img2imgStrength,
        String scheduler,
        int width,
        int height,
        double eta,
        int clipSkip,
        int maxSteps,
        long maxPixels,
        int textEncoderLayers,
        SchedulerKnowledge schedulers) {

    /**
     * What the pipeline's scheduler registry accepts.
     *
     * @param resolver any accepted spelling → the canonical alias, empty when unknown
     * @param known the accepted names, listed in "unknown scheduler" messages
     * @param configCheck (canonical scheduler, override object) → the problem with it (unknown key,
     *     bad value), or empty when accepted
     * @param fit canonical scheduler → why the model cannot run it (SD3 takes flow-matching
     *     schedulers only), or empty when it can
     */
    public record SchedulerKnowledge(
            Function<String, Optional<String>> resolver,
            List<String> known,
            BiFunction<String, JsonObject, Optional<String>> configCheck,
            Function<String, Optional<String>> fit) {
        /** Checks presence of every part. */
        public SchedulerKnowledge {
            Objects.requireNonNull(resolver, "resolver");
            Objects.requireNonNull(configCheck, "configCheck");
            Objects.requireNonNull(fit, "fit");
            known = List.copyOf(known);
        }

        /** Knowledge under which the model runs every known scheduler. */
        public SchedulerKnowledge(
                Function<String, Optional<String>> resolver,
                List<String> known,
                BiFunction<String, JsonObject, Optional<String>> configCheck) {
            this(resolver, known, configCheck, alias -> Optional.empty());
        }
    }

    /** diffusers' {@code num_inference_steps} default. */
    public static final int STEPS_DEFAULT = 50;

    /** diffusers' {@code guidance_scale} default. */
    public static final double GUIDANCE_SCALE_DEFAULT = 7.5;

    /** Upper bound on steps: SD models are trained on 1000 timesteps. */
    public static final int MAX_STEPS_DEFAULT = 1000;

    /** Default pixel limit: 4096 × 4096. */
    public static final long MAX_PIXELS_DEFAULT = 4096L * 4096L;

    /** {@code StableDiffusionImg2ImgPipeline}'s {@code strength} default. */
    public static final double IMG2IMG_STRENGTH_DEFAULT = 0.8;

    /** {@code StableDiffusionInpaintPipeline}'s {@code strength} default. */
    public static final double INPAINT_STRENGTH_DEFAULT = 1.0;

    /**
     * The strength of a request that names none: diffusers' default of the pipeline that runs it
     * (img2img: {@link #img2imgStrength}, inpainting 1.0), resolved here so that the metadata, the
     * PNG and the image id say the value used (a row with 0.8 and one without are the same image).
     */
    public double strengthDefault(boolean inpainting) {
        return inpainting ? INPAINT_STRENGTH_DEFAULT : img2imgStrength;
    }

    /** Checks presence of every part. */
    public RequestDefaults {
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(schedulers, "schedulers");
    }

    /**
     * Defaults for a model with diffusers' steps/guidance/eta defaults, the {@link SchedulerNames}
     * table, the default limits, and a scheduler-config check that accepts every key (replace it
     * with {@link #withSchedulerConfigCheck} once the pipeline's config is known).
     *
     * @param scheduler the model's scheduler (any accepted spelling)
     * @param width the model's default width
     * @param height the model's default height
     * @param textEncoderLayers the text encoder's hidden layers
     */
    public static RequestDefaults forModel(
            String scheduler, int width, int height, int textEncoderLayers) {
        String canonical =
                SchedulerNames.canonical(scheduler)
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "model scheduler "
                                                        + scheduler
                                                        + " is unknown; known: "
                                                        + SchedulerNames.knownNames()));
        return new RequestDefaults(
                STEPS_DEFAULT,
                GUIDANCE_SCALE_DEFAULT,
                IMG2IMG_STRENGTH_DEFAULT,
                canonical,
                width,
                height,
                0.0,
                0,
                MAX_STEPS_DEFAULT,
                MAX_PIXELS_DEFAULT,
                textEncoderLayers,
                new SchedulerKnowledge(
                        SchedulerNames::canonical,
                        SchedulerNames.knownNames(),
                        (s, o) -> Optional.empty()));
    }

    /**
     * A copy with the defaults of the model family's pipeline {@code __call__}: SDXL's guidance 5.0
     * and img2img strength 0.3, SD3's 28 steps and guidance 7.0, where {@link #forModel} has SD
     * 1.x/2.x's.
     */
    public RequestDefaults withCallDefaults(
            int newSteps, double newGuidance, double newImg2imgStrength) {
        return copy(
                newSteps, newGuidance, newImg2imgStrength, width, height, maxPixels, schedulers);
    }

    /**
     * A copy with another default size (an img2img row without a size takes its picture's, as
     * diffusers does).
     */
    public RequestDefaults withSize(int newWidth, int newHeight) {
        return copy(
                steps, guidanceScale, img2imgStrength, newWidth, newHeight, maxPixels, schedulers);
    }

    /** A copy with another pixel limit. */
    public RequestDefaults withMaxPixels(long newMaxPixels) {
        return copy(steps, guidanceScale, img2imgStrength, width, height, newMaxPixels, schedulers);
    }

    /** A copy with other scheduler knowledge (the pipeline's registry). */
    public RequestDefaults withSchedulers(
            Function<String, Optional<String>> resolver,
            List<String> known,
            BiFunction<String, JsonObject, Optional<String>> configCheck) {
        return withKnowledge(
                new SchedulerKnowledge(resolver, known, configCheck, schedulers.fit()));
    }

    /**
     * A copy whose model runs only the schedulers {@code fit} accepts (canonical alias → why not,
     * or empty): SD3's flow matching.
     */
    public RequestDefaults withSchedulerFit(Function<String, Optional<String>> fit) {
        return withKnowledge(
                new SchedulerKnowledge(
                        schedulers.resolver(), schedulers.known(), schedulers.configCheck(), fit));
    }

    private RequestDefaults withKnowledge(SchedulerKnowledge newSchedulers) {
        return copy(steps, guidanceScale, img2imgStrength, width, height, maxPixels, newSchedulers);
    }

    /** A copy with another scheduler-config check. */
    public RequestDefaults withSchedulerConfigCheck(
            BiFunction<String, JsonObject, Optional<String>> configCheck) {
        return withSchedulers(schedulers.resolver(), schedulers.known(), configCheck);
    }

    /**
     * A copy that replaces the parts a job may set after {@link #forModel} (the family's call
     * defaults, size, pixel limit, scheduler knowledge) and keeps the model's own facts.
     */
    private RequestDefaults copy(
            int newSteps,
            double newGuidance,
            double newImg2imgStrength,
            int newWidth,
            int newHeight,
            long newMaxPixels,
            SchedulerKnowledge newSchedulers) {
        return new RequestDefaults(
                newSteps,
                newGuidance,
                newImg2imgStrength,
                scheduler,
                newWidth,
                newHeight,
                eta,
                clipSkip,
                maxSteps,
                newMaxPixels,
                textEncoderLayers,
                newSchedulers);
    }
}
