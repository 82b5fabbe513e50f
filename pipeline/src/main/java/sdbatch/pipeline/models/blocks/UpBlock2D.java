package sdbatch.pipeline.models.blocks;

import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code UpBlock2D} (models/unets/unet_2d_blocks.py): each layer concatenates a skip
 * connection to its input and runs a resnet; an optional {@code upsamplers.0} follows.
 */
public final class UpBlock2D extends UNetUpBlock {
    public UpBlock2D(Weights w, Args args) {
        super(w, args, null);
    }
}
