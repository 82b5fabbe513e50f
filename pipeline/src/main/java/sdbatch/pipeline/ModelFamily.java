package sdbatch.pipeline;

import java.util.List;
import java.util.Map;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.pipeline.tokenizer.T5Tokenizer;
import sdbatch.pipeline.weights.LiveParameters;

/**
 * A model family (SD 1.x/2.x, SDXL, SD3): how prompts become conditioning and which network
 * predicts the noise. The denoising loop ({@link DenoisingLoop}) is written once and asks these two
 * seams; it never switches on the family.
 */
public interface ModelFamily extends TextConditioning, NoisePredictor, AutoCloseable {
    /**
     * Latent channels of the noise the loop starts from (4 for SD 1.x/2.x and SDXL, 16 for SD3).
     */
    int latentChannels();

    /** The default latent height and width: the noise predictor's {@code sample_size}. */
    int sampleSize();

    /**
     * Latent sizes must be a multiple of this: 2^(UNet levels − 1), which the up blocks need to
     * meet their skip connections.
     */
    int latentSizeMultiple();

    /** Input channels of the noise predictor (9 for an inpainting UNet). */
    int inChannels();

    /**
     * Layers of the shallowest text encoder a {@code clip_skip} applies to: a {@code clip_skip}
     * must be smaller.
     */
    int textEncoderLayers();

    /** The first text encoder's tokenizer (also what {@link #truncations} counts with). */
    CLIPTokenizer tokenizer();

    /**
     * Every CLIP tokenizer of the family by component name ({@code tokenizer}, {@code
     * tokenizer_2}), in order.
     */
    default Map<String, CLIPTokenizer> tokenizers() {
        return Map.of("tokenizer", tokenizer());
    }

    /**
     * The config of the UNet a ControlNet's residuals would be added to, or null where this family
     * takes no ControlNet.
     */
    default UNetConfig controlNetUnet() {
        return null;
    }

    /** diffusers' default {@code guidance_scale} of the family's pipeline {@code __call__}. */
    default double defaultGuidanceScale() {
        return 7.5;
    }

    /** diffusers' default {@code num_inference_steps} of the family's pipeline {@code __call__}. */
    default int defaultSteps() {
        return StableDiffusionPipeline.DEFAULT_STEPS;
    }

    /**
     * The T5 tokenizer (SD3's {@code tokenizer_3}: what truncation warnings of {@code prompt_3} and
     * {@code tokenize} use), or null where the family has none or runs without T5.
     */
    default T5Tokenizer t5Tokenizer() {
        return null;
    }

    /**
     * The texts of a resolved request that its tokenizers cut, as this family's diffusers pipeline
     * tokenizes them in {@code encode_prompt} (the negative ones only with {@code guidance}, and
     * only where they are tokenized at all): diffusers warns of each and generates anyway.
     *
     * @param guidance whether classifier-free guidance is on (the negative prompts are encoded)
     */
    List<PromptTruncation> truncations(ImageRequest r, boolean guidance);

    /**
     * What the family's diffusers pipeline passes to the batch's new scheduler besides the steps,
     * before its timesteps are set (SD3: {@code mu} for a {@code use_dynamic_shifting} scheduler,
     * from the latents' token count); nothing by default.
     */
    default void prepareScheduler(Scheduler scheduler, ImageRequest first, int vaeScaleFactor) {}

    /** diffusers' default {@code strength} of the family's img2img pipeline. */
    default double defaultImageToImageStrength() {
        return 0.8;
    }

    /**
     * Whether the family's denoiser is trained for flow matching (SD3: a velocity) rather than
     * noise prediction; decides which schedulers fit ({@link
     * sdbatch.pipeline.schedulers.SchedulerFit}).
     */
    default boolean flowMatching() {
        return false;
    }

    /**
     * Refuses what the family cannot run (a mode or adapter diffusers has another pipeline for),
     * after the family-independent checks.
     *
     * @throws IllegalArgumentException naming what is not supported
     */
    default void checkRequest(ImageRequest request) {}

    /**
     * The networks a LoRA may change, by diffusers component name ({@code unet}, {@code
     * text_encoder}, {@code text_encoder_2}); none by default.
     */
    default Map<String, LiveParameters> loraComponents() {
        return Map.of();
    }

    /**
     * Called after a LoRA switch changed weights in place, while no batch runs: drop what was
     * computed from the old weights (cached prompt embeddings).
     */
    default void weightsChanged() {}

    /** Frees the family's networks. */
    @Override
    void close();
}
