package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.weights.Weights;

/** {@code torch.nn.LayerNorm} over the last axis, with affine {@code weight} and {@code bias}. */
public final class LayerNorm {
    final NDArray weight;
    final NDArray bias;
    private final Shape normalized;
    private final float eps;

    public LayerNorm(Weights w, int dim, double eps) {
        this.weight = w.get("weight", new Shape(dim));
        this.bias = w.get("bias", new Shape(dim));
        this.normalized = new Shape(dim);
        this.eps = (float) eps;
    }

    double eps() {
        return eps;
    }

    public NDArray forward(NDArray x) {
        // torch::layer_norm itself, so the result is the reference kernel's.
        return x.getNDArrayInternal()
                .layerNorm(x, normalized, weight, bias, eps)
                .singletonOrThrow();
    }
}
