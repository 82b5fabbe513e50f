package sdbatch.pipeline;

import java.util.Map;
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
