package sdbatch.pipeline.noise;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Standard normal noise for one generation run, passed explicitly to whatever needs randomness
 * (initial latents, ancestral and stochastic scheduler steps). Never global state.
 *
 * <p>For a batch (first dimension B), row {@code i} comes from request {@code i}'s own stream, so
 * an image's noise does not depend on the batch it runs in: this is diffusers' list-of-generators
 * semantics ({@code randn_tensor} with one {@code torch.Generator} per image).
 */
public interface NoiseSource {

    /**
     * Draws {@code N(0, 1)} float32 noise of {@code shape}, continuing each stream.
     *
     * @param manager the manager (and device) the result is created in
     */
    NDArray randn(NDManager manager, Shape shape);
}
