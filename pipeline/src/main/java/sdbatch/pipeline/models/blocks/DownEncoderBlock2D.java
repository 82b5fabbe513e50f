package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.List;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code DownEncoderBlock2D} (models/unets/unet_2d_blocks.py): {@code resnets} without
 * timestep embedding, then an optional {@code downsamplers.0}.
 */
public final class DownEncoderBlock2D {
    final List<ResnetBlock2D> resnets;
    final Downsample2D downsampler;

    /**
     * The block the VAE's {@link Encoder} makes ({@code get_down_block} with its {@code
     * layers_per_block}, {@code norm_num_groups}, eps 1e-6 and no downsample padding).
     */
    public DownEncoderBlock2D(
            Weights w, VaeConfig c, int inChannels, int outChannels, boolean addDownsample) {
        this.resnets = UNet2DBlocks.vaeResnets(w, c, c.layersPerBlock(), inChannels, outChannels);
        this.downsampler = UNet2DBlocks.downsampler(w, addDownsample, outChannels, 0);
    }

    // Port of diffusers unet_2d_blocks.DownEncoderBlock2D.forward
    public NDArray forward(NDArray x) {
        return InnerScope.keep(
                () -> {
                    NDArray h = UNet2DBlocks.vaeResnetsForward(resnets, x, false);
                    return downsampler != null ? InnerScope.consume(h, downsampler::forward) : h;
                });
    }
}
