package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code UpDecoderBlock2D} (models/unets/unet_2d_blocks.py): {@code resnets} without
 * timestep embedding or skip connections, then an optional {@code upsamplers.0}.
 */
public final class UpDecoderBlock2D {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final Upsample2D upsampler;

    public UpDecoderBlock2D(
            Weights w,
            int numLayers,
            int inChannels,
            int outChannels,
            boolean addUpsample,
            double resnetEps,
            int resnetGroups) {
        // No timestep embedding, output scale 1 (diffusers' defaults for the VAE's blocks).
        UNet2DBlocks.resnets(
                w,
                numLayers,
                inChannels,
                outChannels,
                new ResnetBlock2D.Settings(0, resnetGroups, resnetEps, 1.0),
                resnets);
        this.upsampler = UNet2DBlocks.upsampler(w, addUpsample, outChannels);
    }

    // Port of diffusers unet_2d_blocks.UpDecoderBlock2D.forward
    public NDArray forward(NDArray x) {
        return InnerScope.keep(
                () -> {
                    NDArray h = x;
                    for (ResnetBlock2D resnet : resnets) {
                        h = resnet.forward(h, null);
                    }
                    return upsampler != null ? upsampler.forward(h, null) : h;
                });
    }
}
