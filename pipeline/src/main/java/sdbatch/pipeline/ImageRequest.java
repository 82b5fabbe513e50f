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
        return copy(f -> f.negativePrompt = v);
    }

    public ImageRequest withSteps(int v) {
        return copy(f -> f.steps = v);
    }

    public ImageRequest withGuidanceScale(double v) {
        return copy(f -> f.guidanceScale = v);
    }

    public ImageRequest withScheduler(String name, String overridesJson) {
        return copy(
                f -> {
                    f.scheduler = name;
                    f.schedulerConfig = overridesJson;
                });
    }

    public ImageRequest withSize(int w, int h) {
        return copy(
                f -> {
                    f.width = w;
                    f.height = h;
                });
    }

    public ImageRequest withEta(double v) {
        return copy(f -> f.eta = v);
    }

    public ImageRequest withClipSkip(Integer v) {
        return copy(f -> f.clipSkip = v);
    }

    /** This request with {@code change} applied to a mutable copy of its fields. */
    private ImageRequest copy(java.util.function.Consumer<Fields> change) {
        Fields f = new Fields(this);
        change.accept(f);
        return new ImageRequest(
                f.prompt,
                f.negativePrompt,
                f.seed,
                f.steps,
                f.guidanceScale,
                f.scheduler,
                f.schedulerConfig,
                f.width,
                f.height,
                f.eta,
                f.clipSkip);
    }

    /** The fields of a request being copied with a change (the withers' one constructor call). */
    private static final class Fields {
        String prompt;
        String negativePrompt;
        long seed;
        Integer steps;
        Double guidanceScale;
        String scheduler;
        String schedulerConfig;
        Integer width;
        Integer height;
        Double eta;
        Integer clipSkip;

        Fields(ImageRequest r) {
            prompt = r.prompt;
            negativePrompt = r.negativePrompt;
            seed = r.seed;
            steps = r.steps;
            guidanceScale = r.guidanceScale;
            scheduler = r.scheduler;
            schedulerConfig = r.schedulerConfig;
            width = r.width;
            height = r.height;
            eta = r.eta;
            clipSkip = r.clipSkip;
        }
    }
}
