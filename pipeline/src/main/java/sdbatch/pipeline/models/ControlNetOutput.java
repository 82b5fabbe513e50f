package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * diffusers' {@code ControlNetOutput}: what a ControlNet adds to a UNet, already scaled by its
 * conditioning scale. {@link UNet2DConditionModel#forward(NDArray, NDArray, NDArray,
 * ControlNetOutput)} takes it as {@code down_block_additional_residuals} and {@code
 * mid_block_additional_residual}.
 *
 * @param downBlockResSamples one per skip connection of the UNet, in the order the down path makes
 *     them ({@code conv_in}'s output first), each shaped as that skip connection
 * @param midBlockResSample shaped as the mid block's output
 */
public record ControlNetOutput(List<NDArray> downBlockResSamples, NDArray midBlockResSample) {
    public ControlNetOutput {
        downBlockResSamples = List.copyOf(downBlockResSamples);
    }

    /**
     * The element-wise sum of this and {@code other}, as diffusers' {@code MultiControlNetModel}
     * merges the outputs of several ControlNets ({@code prev + curr}).
     */
    public ControlNetOutput plus(ControlNetOutput other) {
        if (other.downBlockResSamples.size() != downBlockResSamples.size()) {
            throw new IllegalArgumentException(
                    "ControlNet outputs with "
                            + downBlockResSamples.size()
                            + " and "
                            + other.downBlockResSamples.size()
                            + " down residuals cannot be summed");
        }
        List<NDArray> sum = new java.util.ArrayList<>(downBlockResSamples.size());
        for (int i = 0; i < downBlockResSamples.size(); i++) {
            sum.add(downBlockResSamples.get(i).add(other.downBlockResSamples.get(i)));
        }
        return new ControlNetOutput(sum, midBlockResSample.add(other.midBlockResSample));
    }
}
