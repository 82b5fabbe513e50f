package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.weights.RandomWeights;

/**
 * The UNet's bfloat16 building blocks in one libtorch call each, on {@link Bf16Compute}'s prepacked
 * weights, where the layer-by-layer path hands float32 tensors back to DJL between layers (ten to
 * twenty native calls per block). The same roundings to bfloat16 happen in the same places as on
 * that path (inputs and weights of products; accumulation, normalisations, residual adds and the
 * timestep embedding's add in float32), so results agree to accumulation order:
 *
 * <ul>
 *   <li>{@code transformer_2d}: Transformer2DModel with one transformer block — group norm, {@code
 *       proj_in} (a 1×1 convolution is the linear layer it is, on the tokens), the block, {@code
 *       proj_out} and the residual.
 *   <li>{@code transformer_block}: BasicTransformerBlock — the three below in a row (models with
 *       several blocks per transformer call it once per block).
 *   <li>{@code self_attention}: {@code h + attn1(norm1(h))} with {@code to_q}, {@code to_k}, {@code
 *       to_v} as one product (their weights stacked [3·inner, dim], packed once); q, k and v are
 *       per-head views of its bfloat16 output and reach the attention kernel without leaving
 *       bfloat16 (over at least 256 keys, as {@link ScaledDotProductAttention}). At 64×64 latents
 *       (SD 1.5 shape, batch 2) 216 → 196 ms per attention, at 32×32 22.3 → 16.5 ms.
 *   <li>{@code cross_attention}: {@code h + attn2(norm2(h), context)}, keys and values projected
 *       from the text embeddings inside the call.
 *   <li>{@code geglu_feed_forward}: {@code h + ff(norm3(h))} — the gate half of {@code net.0.proj}
 *       with GELU as oneDNN's post-op, the value half with the product by the gate as its binary
 *       post-op, then {@code net.2}; the [tokens, 2·inner] projection and the separate GELU and
 *       product passes are gone. [2, 4096, 320] 57.9 → 45.5 ms.
 *   <li>{@code resnet}: ResnetBlock2D — group norms with SiLU, both 3×3 convolutions on prepacked
 *       weights, the timestep embedding's projection and add, the 1×1 shortcut as one product per
 *       image, the residual and the output scale; an up block's skip connection is concatenated to
 *       its input inside the call.
 * </ul>
 *
 * <p>An SD 1.5 step (batch 2) makes 72 native calls instead of 622 (BENCHMARKS.md, round 6).
 *
 * <p>A module of its own, probed once with a small call of each top-level kind: a libtorch without
 * these oneDNN ops keeps the layer-by-layer bfloat16 path. {@code -Dsdbatch.bf16.fused=never}
 * switches all of them off (a benchmarking knob; results agree to bfloat16 rounding).
 */
final class Bf16Fused {
    private static final String NO_SCALARS = Bf16Compute.NO_SCALARS;

    // transformer_block's parameters after (h, ctx), in the order blockArgs lists them: attn1
    // with norm1, attn2 with norm2, ff with norm3.
    private static final String BLOCK_PARAMETERS =
            String.join(
                    "\n",
                    "    n1_w: Tensor, n1_b: Tensor, eps1: float, wqkv: Tensor, wo1: Tensor,",
                    "    bo1: Tensor, heads1: int, scale1: float, bf16_1: bool,",
                    "    n2_w: Tensor, n2_b: Tensor, eps2: float, wq2: Tensor, wk2: Tensor,",
                    "    wv2: Tensor, wo2: Tensor, bo2: Tensor, heads2: int, scale2: float,",
                    "    bf16_2: bool,",
                    "    n3_w: Tensor, n3_b: Tensor, eps3: float, fv_w: Tensor, fv_b: Tensor,",
                    "    fg_w: Tensor, fg_b: Tensor, f2_w: Tensor, f2_b: Tensor");

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
                            "  def cross_attention(self: __torch__.SdbatchBf16Fused,",
                            "    h: Tensor, ctx: Tensor, ln_w: Tensor, ln_b: Tensor, eps: float,",
                            "    wq: Tensor, wk: Tensor, wv: Tensor, wo: Tensor, bo: Tensor,",
                            "    heads: int, scale: float, bf16_attention: bool) -> Tensor:",
                            "    b = h.size(0)",
                            "    x = torch.to(torch.layer_norm(h, [h.size(2)], ln_w, ln_b, eps), 15)",
                            "    c = torch.to(ctx, 15)",
                            "    q = ops.mkldnn._linear_pointwise(x, wq, None, \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    k = ops.mkldnn._linear_pointwise(c, wk, None, \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    v = ops.mkldnn._linear_pointwise(c, wv, None, \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    if not bf16_attention:",
                            "      q = torch.to(q, 6)",
                            "      k = torch.to(k, 6)",
                            "      v = torch.to(v, 6)",
                            "    q = torch.transpose(torch.view(q, [b, h.size(1), heads, -1]), 1, 2)",
                            "    k = torch.transpose(torch.view(k, [b, ctx.size(1), heads, -1]), 1, 2)",
                            "    v = torch.transpose(torch.view(v, [b, ctx.size(1), heads, -1]), 1, 2)",
                            "    y = torch.scaled_dot_product_attention(q, k, v, None, 0., False,"
                                    + " scale=scale)",
                            "    y = torch.flatten(torch.transpose(y, 1, 2), 2)",
                            "    y = ops.mkldnn._linear_pointwise(torch.to(y, 15), wo, bo,"
                                    + " \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    return torch.add(torch.to(y, 6), h)",
                            "  def transformer_block(self: __torch__.SdbatchBf16Fused,",
                            "    h: Tensor, ctx: Tensor,",
                            BLOCK_PARAMETERS,
                            "    ) -> Tensor:",
                            "    h = self.self_attention(h, n1_w, n1_b, eps1, wqkv, wo1, bo1,"
                                    + " heads1, scale1, bf16_1)",
                            "    h = self.cross_attention(h, ctx, n2_w, n2_b, eps2, wq2, wk2, wv2,"
                                    + " wo2, bo2, heads2, scale2, bf16_2)",
                            "    return self.geglu_feed_forward(h, n3_w, n3_b, eps3, fv_w, fv_b,"
                                    + " fg_w, fg_b, f2_w, f2_b)",
                            "  def transformer_2d(self: __torch__.SdbatchBf16Fused,",
                            "    x: Tensor, ctx: Tensor, gn_w: Tensor, gn_b: Tensor, groups: int,",
                            "    gn_eps: float, w_in: Tensor, b_in: Tensor, w_out: Tensor,"
                                    + " b_out: Tensor,",
                            BLOCK_PARAMETERS,
                            "    ) -> Tensor:",
                            "    y = torch.to(torch.group_norm(x, groups, gn_w, gn_b, gn_eps, False),"
                                    + " 15)",
                            "    t = torch.contiguous(torch.transpose(torch.flatten(y, 2), 1, 2))",
                            "    h = ops.mkldnn._linear_pointwise(t, w_in, b_in, \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    h = self.transformer_block(torch.to(h, 6), ctx, n1_w, n1_b, eps1,"
                                    + " wqkv, wo1, bo1, heads1, scale1, bf16_1, n2_w, n2_b, eps2,"
                                    + " wq2, wk2, wv2, wo2, bo2, heads2, scale2, bf16_2, n3_w, n3_b,"
                                    + " eps3, fv_w, fv_b, fg_w, fg_b, f2_w, f2_b)",
                            "    o = ops.mkldnn._linear_pointwise(torch.to(h, 15), w_out, b_out,"
                                    + " \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "    o = torch.reshape(torch.transpose(torch.to(o, 6), 1, 2),"
                                    + " [x.size(0), x.size(1), x.size(2), x.size(3)])",
                            "    return torch.contiguous(torch.add(x, o))",
                            "  def conv3x3(self: __torch__.SdbatchBf16Fused,",
                            "    x: Tensor, w: Tensor, b: Tensor, padding: int) -> Tensor:",
                            "    y = ops.mkldnn._convolution_pointwise(torch.to(x, 15), w, b,"
                                    + " [padding, padding], [1, 1], [1, 1], 1, \"none\", "
                                    + NO_SCALARS
                                    + ", None)",
                            "    return torch.to(y, 6)",
                            "  def resnet(self: __torch__.SdbatchBf16Fused,",
                            "    x: Tensor, skip: Tensor, temb: Tensor, with_skip: bool,",
                            "    n1_w: Tensor, n1_b: Tensor, groups1: int, eps1: float,",
                            "    w1: Tensor, b1: Tensor, pad1: int,",
                            "    with_temb: bool, wt: Tensor, bt: Tensor,",
                            "    n2_w: Tensor, n2_b: Tensor, groups2: int, eps2: float,",
                            "    w2: Tensor, b2: Tensor, pad2: int,",
                            "    with_shortcut: bool, ws: Tensor, bs: Tensor,",
                            "    output_scale: float) -> Tensor:",
                            "    if with_skip:",
                            "      x = torch.cat([x, skip], 1)",
                            "    y = torch.silu_(torch.group_norm(x, groups1, n1_w, n1_b, eps1,"
                                    + " False))",
                            "    y = self.conv3x3(y, w1, b1, pad1)",
                            "    if with_temb:",
                            "      t = ops.mkldnn._linear_pointwise(torch.to(torch.silu(temb), 15),"
                                    + " wt, bt, \"none\", "
                                    + NO_SCALARS
                                    + ", \"\")",
                            "      y = torch.add(y, torch.unsqueeze(torch.unsqueeze(torch.to(t, 6),"
                                    + " -1), -1))",
                            "    y = torch.silu_(torch.group_norm(y, groups2, n2_w, n2_b, eps2,"
                                    + " False))",
                            "    y = self.conv3x3(y, w2, b2, pad2)",
                            "    s = x",
                            "    if with_shortcut:",
                            "      n = x.size(0)",
                            "      s = torch.matmul(torch.flatten(ws, 1),"
                                    + " torch.reshape(torch.to(x, 15), [n, x.size(1), -1]))",
                            "      s = torch.add(torch.to(s, 6), torch.unsqueeze(torch.to(bs, 6), 1))",
                            "      s = torch.reshape(s, [n, -1, x.size(2), x.size(3)])",
                            "    y = torch.add(s, y)",
                            "    if output_scale != 1.:",
                            "      y = torch.div(y, output_scale)",
                            "    return y",
                            "  def forward(self: __torch__.SdbatchBf16Fused,",
                            "    x: Tensor) -> Tensor:",
                            "    return x"),
                    Bf16Fused::probe);

    private Bf16Fused() {}

    /** Whether the current {@link ComputeOptions} ask for the single-call paths. */
    static boolean enabled() {
        return ComputeOptions.current().bf16Fused();
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
        return enabled() && Bf16Compute.usable(x) && Bf16Compute.prepack() && module() != null;
    }

    /**
     * Calls {@code method} with {@code leading} then {@code args} (an argument list one of the
     * {@code ...Args} helpers made).
     */
    static NDArray call(String method, Object[] args, NDArray... leading) {
        return call(module(), method, args, leading);
    }

    private static NDArray call(PtSymbolBlock m, String method, Object[] args, NDArray... leading) {
        Object[] all = new Object[leading.length + args.length];
        System.arraycopy(leading, 0, all, 0, leading.length);
        System.arraycopy(args, 0, all, leading.length, args.length);
        return TorchScriptOps.callMethod(m, method, all);
    }

    /** The list that is {@code parts} one after the other, or null if any part is null. */
    static Object[] concat(Object[]... parts) {
        int n = 0;
        for (Object[] p : parts) {
            if (p == null) {
                return null;
            }
            n += p.length;
        }
        Object[] all = new Object[n];
        int at = 0;
        for (Object[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }

    /**
     * {@code self_attention}'s arguments after {@code h}: {@code norm}, then {@code qkv} ({@code
     * to_q}, {@code to_k}, {@code to_v} stacked, no biases) and {@code out} ({@code to_out.0}).
     */
    static Object[] selfAttentionArgs(
            LayerNorm norm,
            Bf16Compute.Packed qkv,
            Bf16Compute.Packed out,
            int heads,
            double scale,
            long tokens) {
        if (qkv == null || out == null || out.bias() == null) {
            return null;
        }
        return new Object[] {
            norm.weight,
            norm.bias,
            norm.eps(),
            qkv.weight(),
            out.weight(),
            out.bias(),
            (long) heads,
            scale,
            ScaledDotProductAttention.bf16For(tokens)
        };
    }

    /**
     * {@code cross_attention}'s arguments after {@code (h, ctx)}: {@code norm}, then {@code to_q},
     * {@code to_k}, {@code to_v} (no biases) and {@code to_out.0}.
     */
    static Object[] crossAttentionArgs(
            LayerNorm norm,
            Bf16Compute.Packed q,
            Bf16Compute.Packed k,
            Bf16Compute.Packed v,
            Bf16Compute.Packed out,
            int heads,
            double scale,
            long keys) {
        if (q == null || k == null || v == null || out == null || out.bias() == null) {
            return null;
        }
        return new Object[] {
            norm.weight,
            norm.bias,
            norm.eps(),
            q.weight(),
            k.weight(),
            v.weight(),
            out.weight(),
            out.bias(),
            (long) heads,
            scale,
            ScaledDotProductAttention.bf16For(keys)
        };
    }

    /**
     * {@code geglu_feed_forward}'s arguments after {@code h}: {@code norm}, then {@code value} and
     * {@code gate}, the two halves of {@code net.0.proj} (rows [0, inner) and [inner, 2·inner)),
     * and {@code out}, {@code net.2}.
     */
    static Object[] gegluArgs(
            LayerNorm norm,
            Bf16Compute.Packed value,
            Bf16Compute.Packed gate,
            Bf16Compute.Packed out) {
        if (value == null || gate == null || out == null) {
            return null;
        }
        if (value.bias() == null || gate.bias() == null || out.bias() == null) {
            return null;
        }
        return new Object[] {
            norm.weight,
            norm.bias,
            norm.eps(),
            value.weight(),
            value.bias(),
            gate.weight(),
            gate.bias(),
            out.weight(),
            out.bias()
        };
    }

    /**
     * {@code transformer_2d}'s arguments after {@code (x, ctx)} and before the block's: the group
     * norm, then {@code proj_in} and {@code proj_out} as linear layers on the tokens.
     */
    static Object[] transformerArgs(
            GroupNorm norm, Bf16Compute.Packed projIn, Bf16Compute.Packed projOut) {
        if (projIn == null || projOut == null || projIn.bias() == null || projOut.bias() == null) {
            return null;
        }
        return new Object[] {
            norm.weight,
            norm.bias,
            (long) norm.groups(),
            norm.eps(),
            projIn.weight(),
            projIn.bias(),
            projOut.weight(),
            projOut.bias()
        };
    }

    /**
     * {@code resnet}'s arguments after {@code (x, skip, temb)}: whether {@code skip} is
     * concatenated to {@code x} (else it is any tensor), {@code norm1}, {@code conv1} (3×3, stride
     * 1), {@code timeEmbProj} (null: none), {@code norm2}, {@code conv2} (3×3, stride 1), {@code
     * shortcut} (1×1, null: none) and the output scale factor.
     */
    static Object[] resnetArgs(
            boolean withSkip,
            GroupNorm norm1,
            Bf16Compute.Packed conv1,
            int padding1,
            Bf16Compute.Packed timeEmbProj,
            GroupNorm norm2,
            Bf16Compute.Packed conv2,
            int padding2,
            Bf16Compute.Packed shortcut,
            double outputScaleFactor) {
        if (conv1 == null || conv2 == null || conv1.bias() == null || conv2.bias() == null) {
            return null;
        }
        if ((timeEmbProj != null && timeEmbProj.bias() == null)
                || (shortcut != null && shortcut.bias() == null)) {
            return null;
        }
        // Absent layers: the flag says so and any tensor fills their places.
        Bf16Compute.Packed t = timeEmbProj != null ? timeEmbProj : conv1;
        Bf16Compute.Packed s = shortcut != null ? shortcut : conv1;
        return new Object[] {
            withSkip,
            norm1.weight,
            norm1.bias,
            (long) norm1.groups(),
            norm1.eps(),
            conv1.weight(),
            conv1.bias(),
            (long) padding1,
            timeEmbProj != null,
            t.weight(),
            t.bias(),
            norm2.weight,
            norm2.bias,
            (long) norm2.groups(),
            norm2.eps(),
            conv2.weight(),
            conv2.bias(),
            (long) padding2,
            shortcut != null,
            s.weight(),
            s.bias(),
            outputScaleFactor
        };
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

    /**
     * Prepacked bfloat16 weights of a 1×1 convolution's [out, in, 1, 1] {@code weight} as the
     * linear layer it is on [tokens, in] rows ({@code proj_in}, {@code proj_out}); the float32 view
     * is freed at once.
     */
    static Bf16Compute.Packed packPointwiseAsLinear(NDArray weight, NDArray bias, long rows) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Shape k = weight.getShape();
            return Bf16Compute.packLinear(weight.reshape(k.get(0), k.get(1)), bias, rows);
        }
    }

    private static PtSymbolBlock module() {
        return MODULE.get();
    }

    /**
     * One small call of each top-level kind (the others run inside them), on weights packed by
     * {@link Bf16Compute}.
     */
    private static void probe(PtSymbolBlock m, NDManager probe) {
        if (Bf16Compute.packedModule() == null) {
            throw new IllegalStateException(
                    "prepacked bfloat16 weights are unavailable: "
                            + Bf16Compute.prepackUnavailableReason());
        }
        // Attached to the probe's manager, which frees them.
        NDArray w = probe.ones(new Shape(4, 4)).mul(0.1f);
        NDArray b = probe.zeros(new Shape(4));
        Bf16Compute.Packed qkv = packStacked(2, w, w, w);
        Bf16Compute.Packed lin = Bf16Compute.packLinear(w, b, 2);
        Bf16Compute.Packed nobias = Bf16Compute.packLinear(w, null, 2);
        RandomWeights norms = new RandomWeights(0, probe);
        GroupNorm gn = new GroupNorm(norms.prefix("gn"), 2, 4, 1e-6);
        LayerNorm ln = new LayerNorm(norms.prefix("ln"), 4, 1e-5);
        Object[] block =
                concat(
                        selfAttentionArgs(ln, qkv, lin, 2, 0.5, 2),
                        crossAttentionArgs(ln, nobias, nobias, nobias, lin, 2, 0.5, 2),
                        gegluArgs(ln, lin, lin, lin));
        NDArray x = probe.ones(new Shape(1, 4, 1, 2));
        NDArray text = probe.ones(new Shape(1, 3, 4));
        call(m, "transformer_2d", concat(transformerArgs(gn, lin, lin), block), x, text);
        Bf16Compute.Packed conv =
                Bf16Compute.packConv(probe.ones(new Shape(4, 4, 3, 3)), b, 1, 1, x.getShape());
        Bf16Compute.Packed pointwise =
                Bf16Compute.packConv(probe.ones(new Shape(4, 4, 1, 1)), b, 1, 0, x.getShape());
        NDArray temb = probe.ones(new Shape(1, 4));
        // Concatenated to the 4 channels the block takes, as an up block's skip connection.
        NDArray half = probe.ones(new Shape(1, 2, 1, 2));
        call(
                m,
                "resnet",
                resnetArgs(true, gn, conv, 1, lin, gn, conv, 1, pointwise, 2.0),
                half,
                half,
                temb);
    }
}
