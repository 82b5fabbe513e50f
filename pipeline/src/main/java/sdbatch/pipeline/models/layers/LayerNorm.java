package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.weights.Weights;

/**
 * {@code torch.nn.LayerNorm} over the last axis, with affine {@code weight} and {@code bias}. The
 * parameters are public for the single-call bfloat16 blocks that normalise inside libtorch ({@link
 * sdbatch.pipeline.models.kernels.Bf16Fused}); they are owned by the model's weights.
 *
 * @param weight the [dim] gain
 * @param bias the [dim] shift
 * @param eps the epsilon added to the variance (a float, as torch's kernel takes it)
 */
public record LayerNorm(NDArray weight, NDArray bias, double eps) {

    public LayerNorm(Weights w, int dim, double eps) {
        this(w.get("weight", new Shape(dim)), w.get("bias", new Shape(dim)), (float) eps);
    }

    public NDArray forward(NDArray x) {
        // torch::layer_norm itself, so the result is the reference kernel's.
        return x.getNDArrayInternal()
                .layerNorm(x, weight.getShape(), weight, bias, (float) eps)
                .singletonOrThrow();
    }
}
