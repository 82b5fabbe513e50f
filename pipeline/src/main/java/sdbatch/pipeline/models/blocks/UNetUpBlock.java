package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.List;

/** An up block of the UNet: {@link CrossAttnUpBlock2D} or {@link UpBlock2D}. */
public interface UNetUpBlock {
    /**
     * Runs the block.
     *
     * @param resSamples the skip connections for this block, in down order; consumed from the end
     * @param upsampleSize target [H, W] of the upsampler, or null for ×2
     */
    NDArray forward(
            NDArray x,
            List<NDArray> resSamples,
            NDArray temb,
            NDArray encoderHiddenStates,
            long[] upsampleSize);

    /** The number of resnets, which is the number of skip connections consumed. */
    int numResnets();
}
