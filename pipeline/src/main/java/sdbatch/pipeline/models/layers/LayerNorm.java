package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.weights.Weights;

/** {@code torch.nn.LayerNorm} over the last axis, with affine {@code weight} and {@code bias}. */
public final class LayerNorm {
    private final NDArray weight;
    private final NDArray bias;
    private final Shape normalized;
    private final float eps;

    public LayerNorm(Weights w, int dim, double eps) {
        this.weight = w.get("weight", new Shape(dim));
        this.bias = w.get("bias", new Shape(dim));
        this.normalized = new Shape(dim);
        this.eps = (float) eps;
    }

    // The parameters, for the single-call bfloat16 blocks that normalise inside libtorch
    // (sdbatch.pipeline.models.kernels.Bf16Fused); owned by the model's weights.

    /** The [dim] gain. */
    public NDArray weight() {
        return weight;
    }

    /** The [dim] shift. */
    public NDArray bias() {
        return bias;
    }

    /** The epsilon added to the variance. */
    public double eps() {
        return eps;
    }

    public NDArray forward(NDArray x) {
        // torch::layer_norm itself, so the result is the reference kernel's.
        return x.getNDArrayInternal()
                .layerNorm(x, normalized, weight, bias, eps)
                .singletonOrThrow();
    }
}
