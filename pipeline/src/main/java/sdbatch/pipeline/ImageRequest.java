package sdbatch.pipeline;

/**
 * One image to generate, with diffusers' meaning for every field. Null fields take the model's
 * defaults ({@link StableDiffusionPipeline#resolve}): size = UNet {@code sample_size} × the VAE
 * scale factor, scheduler = the folder's, steps 50, guidance 7.5, eta 0, no clip skip.
 *
 * @param prompt the prompt; empty is allowed (diffusers allows it), null is not
 * @param negativePrompt replaces the empty unconditional prompt when guidance is on; null or empty
 *     means none
 * @param seed the seed of a {@code torch.Generator("cpu")} (only its low 32 bits matter)
 * @param steps number of inference steps, 1..1000
 * @param guidanceScale classifier-free guidance scale; {@code <= 1} skips the unconditional pass
 * @param scheduler scheduler name (diffusers class, alias or A1111 sampler name); null = folder's
 * @param schedulerConfig JSON object of scheduler config overrides, or null
 * @param width image width in pixels, a positive multiple of 8
 * @param height image height in pixels, a positive multiple of 8
 * @param eta DDIM's eta (0 = deterministic DDIM)
 * @param clipSkip diffusers' {@code clip_skip}: layers skipped from the end of the text encoder for
 *     the prompt (the negative prompt always uses the last layer, as in diffusers)
 */
public record ImageRequest(
        String prompt,
        String negativePrompt,
        long seed,
        Integer steps,
        Double guidanceScale,
        String scheduler,
        String schedulerConfig,
        Integer width,
        Integer height,
        Double eta,
        Integer clipSkip) {

    /** A request with every optional field left to the model's defaults. */
    public static ImageRequest of(String prompt, long seed) {
        return new ImageRequest(prompt, null, seed, null, null, null, null, null, null, null, null);
    }

    public ImageRequest withNegativePrompt(String v) {
        return new ImageRequest(
                prompt,
                v,
                seed,
                steps,
                guidanceScale,
                scheduler,
                schedulerConfig,
                width,
                height,
                eta,
                clipSkip);
    }

    public ImageRequest withSteps(int v) {
        return new ImageRequest(
                prompt,
                negativePrompt,
                seed,
                v,
                guidanceScale,
                scheduler,
                schedulerConfig,
                width,
                height,
                eta,
                clipSkip);
    }

    public ImageRequest withGuidanceScale(double v) {
        return new ImageRequest(
                prompt,
                negativePrompt,
                seed,
                steps,
                v,
                scheduler,
                schedulerConfig,
                width,
                height,
                eta,
                clipSkip);
    }

    public ImageRequest withScheduler(String name, String overridesJson) {
        return new ImageRequest(
                prompt,
                negativePrompt,
                seed,
                steps,
                guidanceScale,
                name,
                overridesJson,
                width,
                height,
                eta,
                clipSkip);
    }

    public ImageRequest withSize(int w, int h) {
        return new ImageRequest(
                prompt,
                negativePrompt,
                seed,
                steps,
                guidanceScale,
                scheduler,
                schedulerConfig,
                w,
                h,
                eta,
                clipSkip);
    }

    public ImageRequest withEta(double v) {
        return new ImageRequest(
                prompt,
                negativePrompt,
                seed,
                steps,
                guidanceScale,
                scheduler,
                schedulerConfig,
                width,
                height,
                v,
                clipSkip);
    }

    public ImageRequest withClipSkip(Integer v) {
        return new ImageRequest(
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
                v);
    }
}
