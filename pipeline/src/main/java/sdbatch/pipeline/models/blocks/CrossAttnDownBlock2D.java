package sdbatch.pipeline.models.blocks;

import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code CrossAttnDownBlock2D} (models/unets/unet_2d_blocks.py): pairs of {@code
 * resnets} and {@code attentions} (Transformer2DModel), then an optional {@code downsamplers.0}.
 */
public final class CrossAttnDownBlock2D extends UNetDownBlock {
    public CrossAttnDownBlock2D(
            Weights w,
            int numLayers,
            int inChannels,
            int outChannels,
            boolean addDownsample,
            int downsamplePadding,
            ResnetBlock2D.Settings resnet,
            Transformer2DModel.Settings attention) {
        super(
                w,
                numLayers,
                inChannels,
                outChannels,
                addDownsample,
                downsamplePadding,
                resnet,
                attention);
    }
}
