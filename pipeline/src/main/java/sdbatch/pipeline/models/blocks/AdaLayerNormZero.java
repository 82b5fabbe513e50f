package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.layers.Activations;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code AdaLayerNormZero} (models/normalization.py) as SD3's joint blocks use it (no
 * class embedding): {@code linear(silu(temb))} gives six [B, D] modulations; the tokens are layer
 * normalised without affine parameters ({@code eps} 1e-6), scaled by {@code 1 + scale_msa} and
 * shifted by {@code shift_msa}. SD3.5's {@code SD35AdaLayerNormZeroX} ({@code dual} true) gives
 * three more for the second attention: nine in all.
 */
public final class AdaLayerNormZero {
    final Linear linear;
    private final int dim;
    private final boolean dual;

    /** The normalised, modulated tokens and the modulations the block uses later. */
    public record Output(
            NDArray hidden,
            NDArray gateMsa,
            NDArray shiftMlp,
            NDArray scaleMlp,
            NDArray gateMlp,
            NDArray hidden2,
            NDArray gateMsa2) {}

    /**
     * @param dual SD3.5's {@code SD35AdaLayerNormZeroX} (nine modulations) instead of six
     */
    public AdaLayerNormZero(Weights w, int dim, boolean dual) {
        this.dim = dim;
        this.dual = dual;
        this.linear = new Linear(w.prefix("linear"), dim, (dual ? 9 : 6) * dim, true);
    }

    // Port of diffusers normalization.AdaLayerNormZero.forward and
    // SD35AdaLayerNormZeroX.forward
    public Output forward(NDArray x, NDArray emb) {
        NDList m = linear.forward(Activations.silu(emb)).split(dual ? 9 : 6, 1);
        NDArray norm = layerNorm(x, dim);
        NDArray hidden = modulate(norm, m.get(1), m.get(0));
        NDArray hidden2 = dual ? modulate(norm, m.get(7), m.get(6)) : null;
        return new Output(
                hidden, m.get(2), m.get(3), m.get(4), m.get(5), hidden2, dual ? m.get(8) : null);
    }

    /** {@code x * (1 + scale[:, None]) + shift[:, None]} for [B, L, D] tokens, [B, D] scale. */
    static NDArray modulate(NDArray x, NDArray scale, NDArray shift) {
        return x.mul(scale.add(1f).expandDims(1)).add(shift.expandDims(1));
    }

    /** {@code nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)} over the last axis. */
    static NDArray layerNorm(NDArray x, int dim) {
        Shape s = new Shape(dim);
        // torch::layer_norm with unit gain and zero shift: the same numbers as no affine
        // parameters (x * 1 + 0 is exact)
        NDArray ones = x.getManager().ones(s, x.getDataType());
        NDArray zeros = x.getManager().zeros(s, x.getDataType());
        return x.getNDArrayInternal().layerNorm(x, s, ones, zeros, 1e-6f).singletonOrThrow();
    }
}
