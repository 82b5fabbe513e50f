package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.models.kernels.Bf16Fused;
import sdbatch.pipeline.models.layers.Activations;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.LayerNorm;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code FeedForward} with the default {@code geglu} activation (models/attention.py):
 * {@code net.0.proj} maps to twice the inner width, one half gates the other through GELU, and
 * {@code net.2} maps back (net.1 is dropout, a no-op at inference).
 */
public final class FeedForward {
    final Linear net0Proj;
    final Linear net2;
    // net.0.proj's value and gate halves, prepacked apart for Bf16Fused (made on first use).
    final Bf16Compute.Slot valueBf16;
    final Bf16Compute.Slot gateBf16;
    private final int inner;

    public FeedForward(Weights w, int dim, int mult) {
        int inner = dim * mult;
        this.inner = inner;
        this.valueBf16 = w.derived(new Bf16Compute.Slot());
        this.gateBf16 = w.derived(new Bf16Compute.Slot());
        this.net0Proj =
                new Linear(w.prefix("net").prefix("0").prefix("proj"), dim, inner * 2, true);
        this.net2 = new Linear(w.prefix("net").prefix("2"), inner, dim, true);
    }

    /**
     * {@code h + forward(norm.forward(h))} — the transformer block's pre-norm feed-forward with its
     * residual — in one bfloat16 call ({@link Bf16Fused}), or null where that path does not apply.
     */
    NDArray fusedNormResidual(LayerNorm norm, NDArray h) {
        if (!Bf16Fused.usable(h)) {
            return null;
        }
        Object[] args = bf16Args(norm, h, h.getShape().size() / h.getShape().tail());
        return args == null ? null : Bf16Fused.call("geglu_feed_forward", args, h);
    }

    /**
     * {@link Bf16Fused}'s arguments for this feed-forward after {@code norm}, over {@code rows}
     * token rows, or null where that path does not apply. Packs the weights on first use.
     */
    Object[] bf16Args(LayerNorm norm, NDArray like, long rows) {
        Bf16Compute.Packed value =
                valueBf16.get(
                        like,
                        () ->
                                Bf16Fused.packRows(
                                        net0Proj.weight(), net0Proj.bias(), 0, inner, rows));
        Bf16Compute.Packed gate =
                gateBf16.get(
                        like,
                        () ->
                                Bf16Fused.packRows(
                                        net0Proj.weight(),
                                        net0Proj.bias(),
                                        inner,
                                        2L * inner,
                                        rows));
        return Bf16Fused.gegluArgs(norm, value, gate, net2.bf16Packed(like, rows));
    }

    // Port of diffusers activations.GEGLU.forward and attention.FeedForward.forward
    public NDArray forward(NDArray x) {
        if (Bf16Compute.usable(x)) {
            Bf16Compute.Packed proj = net0Proj.bf16Packed(x);
            Bf16Compute.Packed out = net2.bf16Packed(x);
            if (proj != null && out != null) {
                return Bf16Compute.gegluFeedForward(proj, out, x);
            }
        }
        return InnerScope.keep(
                () -> {
                    NDArray proj = net0Proj.forward(x);
                    NDList halves = proj.split(2, proj.getShape().dimension() - 1);
                    NDArray hidden = halves.get(0).mul(Activations.gelu(halves.get(1)));
                    return net2.forward(hidden);
                });
    }
}
