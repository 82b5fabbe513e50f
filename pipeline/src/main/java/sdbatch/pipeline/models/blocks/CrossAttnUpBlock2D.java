package sdbatch.pipeline.models.blocks;

import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code CrossAttnUpBlock2D} (models/unets/unet_2d_blocks.py): each layer concatenates a
 * skip connection to its input, then runs a resnet and a Transformer2DModel; an optional {@code
 * upsamplers.0} follows.
 */
public final class CrossAttnUpBlock2D extends UNetUpBlock {
    public CrossAttnUpBlock2D(
            Weights w,
            int numLayers,
            int inChannels,
            int outChannels,
            int prevOutputChannel,
            boolean addUpsample,
            ResnetBlock2D.Settings resnet,
            Transformer2DModel.Settings attention) {
        super(
                w,
                numLayers,
                inChannels,
                outChannels,
                prevOutputChannel,
                addUpsample,
                resnet,
                attention);
    }
}
