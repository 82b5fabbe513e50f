package sdbatch.pipeline.models.blocks;

import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code CrossAttnDownBlock2D} (models/unets/unet_2d_blocks.py): pairs of {@code
 * resnets} and {@code attentions} (Transformer2DModel), then an optional {@code downsamplers.0}.
 */
public final class CrossAttnDownBlock2D extends UNetDownBlock {
    public CrossAttnDownBlock2D(Weights w, Args args, Transformer2DModel.Settings attention) {
        super(w, args, attention);
    }
}
