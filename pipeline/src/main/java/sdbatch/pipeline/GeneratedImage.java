package sdbatch.pipeline;

import java.util.Map;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.SchedulerConfigJson;

/**
 * One finished image: the request with every default resolved, 8-bit RGB pixels (row-major, HWC)
 * made exactly as diffusers makes them, the final latents (before the VAE), and where the time
 * went.
 *
 * @param request the request, resolved ({@link StableDiffusionPipeline#resolve})
 * @param schedulerName the canonical diffusers class name of the scheduler that ran
 * @param samplerName its AUTOMATIC1111 sampler name ("Euler a", "DPM++ 2M Karras", ...)
 * @param rgb {@code height * width * 3} bytes
 * @param latents final latents, {@code 4 * height/f * width/f} floats (channel-major)
 * @param timings seconds spent per stage, for the whole batch this image ran in
 */
public record GeneratedImage(
        ImageRequest request,
        String schedulerName,
        String samplerName,
        int width,
        int height,
        byte[] rgb,
        float[] latents,
        Timings timings) {

    /** The resolved request in the schemas' form (what metadata and PNGs carry). */
    public GenerationRequest toGenerationRequest() {
        ImageRequest r = request;
        return new GenerationRequest(
                r.prompt(),
                r.negativePrompt() == null ? "" : r.negativePrompt(),
                r.seed(),
                r.steps(),
                r.guidanceScale(),
                schedulerName,
                r.schedulerConfig() == null
                        ? SchedulerConfigJson.EMPTY
                        : SchedulerConfigJson.canonical(r.schedulerConfig()),
                r.width(),
                r.height(),
                r.eta(),
                r.clipSkip() == null ? 0 : r.clipSkip(),
                0,
                "",
                0,
                Map.of(),
                /* pictures= */ null,
                /* adapters= */ null,
                /* extra= */ null);
    }

    /** Seconds per stage of the batch that made this image, and its batch size. */
    public record Timings(
            double encodeSeconds, double loopSeconds, double decodeSeconds, int batchSize) {}
}
