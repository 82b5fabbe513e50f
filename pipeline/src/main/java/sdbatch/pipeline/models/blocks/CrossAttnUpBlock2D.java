package sdbatch.pipeline.models.blocks;

import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code CrossAttnUpBlock2D} (models/unets/unet_2d_blocks.py): each layer concatenates a
 * skip connection to its input, then runs a resnet and a Transformer2DModel; an optional {@code
 * upsamplers.0} follows.
 */
public final class CrossAttnUpBlock2D extends UNetUpBlock {
    public CrossAttnUpBlock2D(Weights w, Args args, Transformer2DModel.Settings attention) {
        super(w, args, attention);
    }
}
