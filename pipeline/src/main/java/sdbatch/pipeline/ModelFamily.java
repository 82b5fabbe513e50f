package sdbatch.pipeline;

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

    /** Frees the family's networks. */
    @Override
    void close();
}
