package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import java.util.Locale;

/**
 * Two of a transformer block's bfloat16 sub-graphs in one libtorch call each, on {@link
 * Bf16Compute}'s prepacked weights, where the layer-by-layer path hands float32 tensors back to DJL
 * between layers; each call also applies the layer norm before it and the residual add after it
 * (float32, inside libtorch):
 *
 * <ul>
 *   <li>Self-attention: {@code to_q}, {@code to_k}, {@code to_v} as one product with their weights
 *       stacked ([3·inner, dim], packed once), q, k and v taken from it as per-head views, the
 *       fused attention kernel on them (bfloat16 over at least 256 keys, as {@link
 *       ScaledDotProductAttention}), and {@code to_out.0} — q, k, v and the attention output never
 *       exist in float32. At 64×64 latents (SD 1.5 shape, batch 2) 216 → 196 ms per attention, at
 *       32×32 22.3 → 16.5 ms.
 *   <li>GEGLU feed-forward: the gate half of {@code net.0.proj} with GELU as oneDNN's post-op, the
 *       value half with the product by the gate as its binary post-op, then {@code net.2}; the
 *       [tokens, 2·inner] projection, its split halves and the separate GELU and product passes are
 *       gone. [2, 4096, 320] 57.9 → 45.5 ms, [2, 1024, 640] 38.9 → 35.1 ms.
 * </ul>
 *
 * <p>A module of its own, probed once with a small call of each kind: a libtorch without these
 * oneDNN post-ops keeps the layer-by-layer bfloat16 path. {@code -Dsdbatch.bf16.fused=never}
 * switches both off (a benchmarking knob; results agree to bfloat16 rounding).
 */
final class Bf16Fused {
    /** System property: {@code auto} (default) or {@code never}. */
    static final String PROPERTY = "sdbatch.bf16.fused";

    private static volatile boolean on =
            !"never".equals(System.getProperty(PROPERTY, "auto").toLowerCase(Locale.ROOT));

    private static final String NO_SCALARS = Bf16Compute.NO_SCALARS;

    // ScalarType numbers as in Bf16Compute: 15 bfloat16, 6 float32.
    private static final TorchScriptOps.Lazy MODULE =
            new TorchScriptOps.Lazy(
                    "SdbatchBf16Fused",
                    String.join(
                            "\n",
                            "  def self_attention(self: __torch__.SdbatchBf16Fused,",
                            "    h: Tensor, ln_w: Tensor, ln_b: Tensor, eps: float,",
                            "    wqkv: Tensor, wo: Tensor, bo: Tensor,",
                            "    heads: int, scale: float, bf16_attention: bool) -> Tensor:",
                            "    b = h.size(0)",
                            "    n = h.size(1)",
                            "    x = torch.layer_norm(h, [h.size(2)], ln_w, ln_b, eps)",
                            "    qkv = ops.mkldnn._linear_pointwise(torch.to(x, 15), wqkv, None,"
                                    + " \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    if not bf16_attention:",
                            "      qkv = torch.to(qkv, 6)",
                            "    qkv = torch.view(qkv, [b, n, 3, heads, -1])",
                            "    q = torch.transpose(torch.select(qkv, 2, 0), 1, 2)",
                            "    k = torch.transpose(torch.select(qkv, 2, 1), 1, 2)",
                            "    v = torch.transpose(torch.select(qkv, 2, 2), 1, 2)",
                            "    y = torch.scaled_dot_product_attention(q, k, v, None, 0., False,"
                                    + " scale=scale)",
                            "    y = torch.contiguous(torch.flatten(torch.transpose(y, 1, 2), 2))",
                            "    y = ops.mkldnn._linear_pointwise(torch.to(y, 15), wo, bo,"
                                    + " \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    return torch.add(torch.to(y, 6), h)",
                            "  def geglu_feed_forward(self: __torch__.SdbatchBf16Fused,",
                            "    h: Tensor, ln_w: Tensor, ln_b: Tensor, eps: float,",
                            "    wv: Tensor, bv: Tensor, wg: Tensor, bg: Tensor,",
                            "    w2: Tensor, b2: Tensor) -> Tensor:",
                            "    xb = torch.to(torch.layer_norm(h, [h.size(2)], ln_w, ln_b, eps), 15)",
                            "    gate = ops.mkldnn._linear_pointwise(xb, wg, bg, \"gelu\", "
                                    + NO_SCALARS
                                    + ", \"none\")",
                            "    g = ops.mkldnn._linear_pointwise(xb, gate, wv, bv, \"mul\")",
                            "    y = ops.mkldnn._linear_pointwise(g, w2, b2, \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    return torch.add(torch.to(y, 6), h)",
                            "  def forward(self: __torch__.SdbatchBf16Fused,",
                            "    x: Tensor) -> Tensor:",
                            "    return x"),
                    Bf16Fused::probe);

    private Bf16Fused() {}

    /** Turns both fused paths on or off, process-wide (a benchmarking knob). */
    static void setEnabled(boolean enabled) {
        on = enabled;
    }

    static boolean enabled() {
        return on;
    }

    /** Why the fused paths are unavailable (module load or probe failure), or null. */
    static String unavailableReason() {
        return MODULE.unavailableReason();
    }

    /**
     * Whether the fused paths may run for float32 input {@code x} now: bfloat16 compute with
     * prepacked weights is usable for it, the knob is on, and the module loaded and passed its
     * probe.
     */
    static boolean usable(NDArray x) {
        return on && Bf16Compute.usable(x) && Bf16Compute.prepack() && module() != null;
    }

    /**
     * {@code h + attn1(norm1(h))} for [B, L, dim] tokens {@code h}: {@code qkv} holds {@code to_q},
     * {@code to_k} and {@code to_v} stacked (no biases), {@code out} is {@code to_out.0}.
     */
    static NDArray selfAttention(
            LayerNorm norm,
            Bf16Compute.Packed qkv,
            Bf16Compute.Packed out,
            NDArray h,
            int heads,
            double scale) {
        return selfAttention(
                norm.weight,
                norm.bias,
                norm.eps(),
                qkv,
                out,
                h,
                heads,
                scale,
                module(),
                ScaledDotProductAttention.bf16For(h.getShape().get(1)));
    }

    private static NDArray selfAttention(
            NDArray normWeight,
            NDArray normBias,
            double eps,
            Bf16Compute.Packed qkv,
            Bf16Compute.Packed out,
            NDArray h,
            int heads,
            double scale,
            PtSymbolBlock m,
            boolean bf16Attention) {
        return TorchScriptOps.callMethod(
                m,
                "self_attention",
                h,
                normWeight,
                normBias,
                eps,
                qkv.weight(),
                out.weight(),
                out.bias(),
                (long) heads,
                scale,
                bf16Attention);
    }

    /**
     * {@code h + ff(norm3(h))}, the GEGLU feed-forward: {@code value} and {@code gate} are the two
     * halves of {@code net.0.proj} (rows [0, inner) and [inner, 2·inner)), {@code out} is {@code
     * net.2}.
     */
    static NDArray gegluFeedForward(
            LayerNorm norm,
            Bf16Compute.Packed value,
            Bf16Compute.Packed gate,
            Bf16Compute.Packed out,
            NDArray h) {
        return gegluFeedForward(norm.weight, norm.bias, norm.eps(), value, gate, out, h, module());
    }

    private static NDArray gegluFeedForward(
            NDArray normWeight,
            NDArray normBias,
            double eps,
            Bf16Compute.Packed value,
            Bf16Compute.Packed gate,
            Bf16Compute.Packed out,
            NDArray h,
            PtSymbolBlock m) {
        return TorchScriptOps.callMethod(
                m,
                "geglu_feed_forward",
                h,
                normWeight,
                normBias,
                eps,
                value.weight(),
                value.bias(),
                gate.weight(),
                gate.bias(),
                out.weight(),
                out.bias());
    }

    /**
     * Prepacked bfloat16 weights for rows [from, to) of a linear layer's {@code weight} (and {@code
     * bias}), for {@code rows} rows of input, owned by the weight's manager; the float32 slices are
     * freed at once.
     */
    static Bf16Compute.Packed packRows(
            NDArray weight, NDArray bias, long from, long to, long rows) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            String range = from + ":" + to;
            return Bf16Compute.packLinear(
                    weight.get(range), bias == null ? null : bias.get(range), rows);
        }
    }

    /**
     * Prepacked bfloat16 weights of linear layers without bias stacked along their output axis
     * ({@code to_q}, {@code to_k}, {@code to_v} as one [3·inner, dim] matrix); the float32 stack is
     * freed at once.
     */
    static Bf16Compute.Packed packStacked(long rows, NDArray... weights) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return Bf16Compute.packLinear(NDArrays.concat(new NDList(weights), 0), null, rows);
        }
    }

    private static PtSymbolBlock module() {
        return MODULE.get();
    }

    /** One small call of each kind, on weights packed by {@link Bf16Compute}. */
    private static void probe(PtSymbolBlock m, NDManager probe) {
        if (Bf16Compute.packedModule() == null) {
            throw new IllegalStateException(
                    "prepacked bfloat16 weights are unavailable: "
                            + Bf16Compute.prepackUnavailableReason());
        }
        NDArray x = probe.ones(new Shape(1, 2, 4));
        NDArray w = probe.ones(new Shape(4, 4)).mul(0.1f);
        NDArray b = probe.zeros(new Shape(4));
        // Attached to the probe's manager, which frees them.
        Bf16Compute.Packed qkv = packStacked(2, w, w, w);
        Bf16Compute.Packed lin = Bf16Compute.packLinear(w, b, 2);
        NDArray gain = probe.ones(new Shape(4));
        selfAttention(gain, b, 1e-5, qkv, lin, x, 2, 0.5, m, true);
        gegluFeedForward(gain, b, 1e-5, lin, lin, lin, x, m);
    }
}
