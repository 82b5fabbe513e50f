package sdbatch.pipeline.controlnet;

import java.nio.file.Path;
import sdbatch.pipeline.config.ControlNetConfig;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * What a ControlNet must fit to serve a pipeline: its residuals match the UNet's skip connections
 * one for one, it sees the pipeline's latents, and its control picture comes down to the latent
 * size.
 *
 * @param unet the config of the UNet the residuals are added to
 * @param latentChannels the latent channels the ControlNet sees
 * @param vaeScaleFactor pixels per latent of the pipeline's VAE
 */
public record ControlNetFit(UNetConfig unet, int latentChannels, int vaeScaleFactor) {

    /**
     * @throws ModelLoadException naming {@code folder}, the first setting of its config {@code c}
     *     that does not fit, and both values
     */
    void check(Path folder, ControlNetConfig c) {
        fits(folder, "block_out_channels", c.blockOutChannels(), unet.blockOutChannels());
        fits(folder, "layers_per_block", c.layersPerBlock(), unet.layersPerBlock());
        fits(folder, "cross_attention_dim", c.crossAttentionDim(), unet.crossAttentionDim());
        fits(folder, "in_channels", c.inChannels(), latentChannels);
        int f = 1 << (c.conditioningEmbeddingOutChannels().size() - 1);
        fits(
                folder,
                "conditioning embedding's downsampling (pixels per latent)",
                f,
                vaeScaleFactor);
    }

    private static void fits(Path folder, String what, Object controlNet, Object pipeline) {
        if (!controlNet.equals(pipeline)) {
            throw new ModelLoadException(
                    "ControlNet "
                            + folder
                            + " does not fit this model: its "
                            + what
                            + " is "
                            + controlNet
                            + ", the model's is "
                            + pipeline);
        }
    }
}
