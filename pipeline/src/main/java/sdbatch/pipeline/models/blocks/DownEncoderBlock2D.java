package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.List;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code DownEncoderBlock2D} (models/unets/unet_2d_blocks.py): {@code resnets} without
 * timestep embedding, then an optional {@code downsamplers.0}.
 */
public final class DownEncoderBlock2D {
    final List<ResnetBlock2D> resnets;
    final Downsample2D downsampler;

    public DownEncoderBlock2D(
            Weights w,
            int numLayers,
            int inChannels,
            int outChannels,
            boolean addDownsample,
            double resnetEps,
            int resnetGroups,
            int downsamplePadding) {
        this.resnets =
                UNet2DBlocks.vaeResnets(
                        w, numLayers, inChannels, outChannels, resnetEps, resnetGroups);
        this.downsampler =
                UNet2DBlocks.downsampler(w, addDownsample, outChannels, downsamplePadding);
    }

    // Port of diffusers unet_2d_blocks.DownEncoderBlock2D.forward
    public NDArray forward(NDArray x) {
        return InnerScope.keep(
                () -> {
                    NDArray h = UNet2DBlocks.vaeResnetsForward(resnets, x);
                    return downsampler != null ? downsampler.forward(h) : h;
                });
    }
}
