package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.weights.Weights;

/** {@code torch.nn.Linear}: {@code weight} [out, in] and, if it has one, {@code bias} [out]. */
public final class Linear {
    private final NDArray weight;
    private final NDArray bias;
    final Bf16Compute.Slot bf16;

    public Linear(Weights w, int in, int out, boolean hasBias) {
        this.weight = w.get("weight", new Shape(out, in));
        this.bias = hasBias ? w.get("bias", new Shape(out)) : null;
        this.bf16 = w.derived(new Bf16Compute.Slot());
    }

    /** The [out, in] weight, owned by the model's weights (callers must not close it). */
    public NDArray weight() {
        return weight;
    }

    /** The [out] bias, or null where the layer has none. */
    public NDArray bias() {
        return bias;
    }

    /** {@code x @ weight.T + bias} over the last axis of {@code x}. */
    public NDArray forward(NDArray x) {
        if (Bf16Compute.usable(x)) {
            Bf16Compute.Packed p = bf16Packed(x);
            return p != null ? Bf16Compute.linear(p, x) : Bf16Compute.linear(x, weight, bias);
        }
        return bias == null
                ? ai.djl.nn.core.Linear.linear(x, weight).singletonOrThrow()
                : ai.djl.nn.core.Linear.linear(x, weight, bias).singletonOrThrow();
    }

    /**
     * This layer's prepacked bfloat16 weights for an input like {@code x} (made on first use), or
     * null where bfloat16 compute has no prepacked path. Public for the blocks' single-call
     * bfloat16 paths ({@link sdbatch.pipeline.models.kernels.Bf16Fused}), which take layers' packed
     * weights as arguments.
     */
    public Bf16Compute.Packed bf16Packed(NDArray x) {
        return bf16Packed(x, x.getShape().size() / x.getShape().tail());
    }

    /** As {@link #bf16Packed(NDArray)}, packed (on first use) for {@code rows} rows of input. */
    public Bf16Compute.Packed bf16Packed(NDArray like, long rows) {
        return bf16.get(like, () -> Bf16Compute.packLinear(weight, bias, rows));
    }
}
