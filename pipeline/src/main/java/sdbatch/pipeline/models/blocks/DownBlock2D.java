package sdbatch.pipeline.models.blocks;

import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code DownBlock2D} (models/unets/unet_2d_blocks.py): {@code resnets} without
 * attention, then an optional {@code downsamplers.0}.
 */
public final class DownBlock2D extends UNetDownBlock {
    public DownBlock2D(Weights w, Args args) {
        super(w, args, null);
    }
}
