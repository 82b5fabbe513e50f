package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/** A down block of the UNet: {@link CrossAttnDownBlock2D} or {@link DownBlock2D}. */
public interface UNetDownBlock {
    /**
     * Runs the block.
     *
     * @param encoderHiddenStates the text embeddings (ignored by blocks without attention)
     * @return the output states for the skip connections, in order; the last is the block's output
     */
    NDList forward(NDArray x, NDArray temb, NDArray encoderHiddenStates);

    /** Whether the block ends with a downsampler (all but the last block). */
    boolean hasDownsampler();
}
