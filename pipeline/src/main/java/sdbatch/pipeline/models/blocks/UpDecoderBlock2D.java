package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.List;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code UpDecoderBlock2D} (models/unets/unet_2d_blocks.py): {@code resnets} without
 * timestep embedding or skip connections, then an optional {@code upsamplers.0}.
 */
public final class UpDecoderBlock2D {
    final List<ResnetBlock2D> resnets;
    final Upsample2D upsampler;

    /**
     * The block the VAE's {@link Decoder} makes ({@code get_up_block} with one layer more than
     * {@code layers_per_block}, {@code norm_num_groups} and eps 1e-6).
     */
    public UpDecoderBlock2D(
            Weights w, VaeConfig c, int inChannels, int outChannels, boolean addUpsample) {
        this.resnets =
                UNet2DBlocks.vaeResnets(w, c, c.layersPerBlock() + 1, inChannels, outChannels);
        this.upsampler = UNet2DBlocks.upsampler(w, addUpsample, outChannels);
    }

    // Port of diffusers unet_2d_blocks.UpDecoderBlock2D.forward
    public NDArray forward(NDArray x) {
        return forward(x, false);
    }

    /**
     * {@link #forward(NDArray)}, freeing {@code x} as soon as the first resnet has read it: the
     * decoder's chain, where nothing else reads it.
     */
    public NDArray forwardFreeingInput(NDArray x) {
        return forward(x, !resnets.isEmpty());
    }

    private NDArray forward(NDArray x, boolean freeInput) {
        return InnerScope.keep(
                () -> {
                    NDArray h = UNet2DBlocks.vaeResnetsForward(resnets, x, freeInput);
                    return upsampler != null
                            ? InnerScope.consume(h, a -> upsampler.forward(a, null))
                            : h;
                });
    }
}
