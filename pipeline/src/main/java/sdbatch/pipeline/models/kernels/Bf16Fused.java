package sdbatch.pipeline.models.kernels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.layers.GroupNorm;
import sdbatch.pipeline.models.layers.LayerNorm;
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
 *
 * <p>The blocks of {@link sdbatch.pipeline.models.blocks} call it: each builds its argument list
 * with the {@code ...Args} helpers here (which fix the order the TorchScript methods take) from its
 * layers' parameters and packed weights, then {@link #call}s the method.
 */
public final class Bf16Fused {
    // The TorchScript source: SdbatchBf16Fused.torchscript beside this class.
    private static final TorchScriptOps.Lazy MODULE =
            TorchScriptOps.Lazy.fromResource("SdbatchBf16Fused", Bf16Fused::probe);

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
    public static boolean usable(NDArray x) {
        return enabled() && Bf16Compute.usable(x) && Bf16Compute.prepack() && module() != null;
    }

    /**
     * Calls {@code method} with {@code leading} then {@code args} (an argument list one of the
     * {@code ...Args} helpers made).
     */
    public static NDArray call(String method, Object[] args, NDArray... leading) {
        return call(module(), method, args, leading);
    }

    private static NDArray call(PtSymbolBlock m, String method, Object[] args, NDArray... leading) {
        Object[] all = new Object[leading.length + args.length];
        System.arraycopy(leading, 0, all, 0, leading.length);
        System.arraycopy(args, 0, all, leading.length, args.length);
        return TorchScriptOps.callMethod(m, method, all);
    }

    /** The list that is {@code parts} one after the other, or null if any part is null. */
    public static Object[] concat(Object[]... parts) {
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
    public static Object[] selfAttentionArgs(
            LayerNorm norm,
            Bf16Compute.Packed qkv,
            Bf16Compute.Packed out,
            int heads,
            double scale,
            long tokens) {
        if (qkv == null || out == null || out.bias() == null) {
            return null;
        }
        return concat(
                args(norm),
                new Object[] {qkv.weight()},
                args(out),
                attentionArgs(heads, scale, tokens));
    }

    /**
     * {@code cross_attention}'s arguments after {@code (h, ctx)}: {@code norm}, then {@code to_q},
     * {@code to_k}, {@code to_v} (no biases) and {@code to_out.0}.
     */
    public static Object[] crossAttentionArgs(
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
        return concat(
                args(norm),
                new Object[] {q.weight(), k.weight(), v.weight()},
                args(out),
                attentionArgs(heads, scale, keys));
    }

    /**
     * {@code geglu_feed_forward}'s arguments after {@code h}: {@code norm}, then {@code value} and
     * {@code gate}, the two halves of {@code net.0.proj} (rows [0, inner) and [inner, 2·inner)),
     * and {@code out}, {@code net.2}.
     */
    public static Object[] gegluArgs(
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
        return concat(args(norm), args(value), args(gate), args(out));
    }

    /**
     * {@code transformer_2d}'s arguments after {@code (x, ctx)} and before the block's: the group
     * norm, then {@code proj_in} and {@code proj_out} as linear layers on the tokens.
     */
    public static Object[] transformerArgs(
            GroupNorm norm, Bf16Compute.Packed projIn, Bf16Compute.Packed projOut) {
        if (projIn == null || projOut == null || projIn.bias() == null || projOut.bias() == null) {
            return null;
        }
        return concat(args(norm), args(projIn), args(projOut));
    }

    /**
     * {@code resnet}'s arguments after {@code (x, skip, temb)}: whether {@code skip} is
     * concatenated to {@code x} (else it is any tensor), {@code norm1}, {@code conv1} (3×3, stride
     * 1), {@code timeEmbProj} (null: none), {@code norm2}, {@code conv2} (3×3, stride 1), {@code
     * shortcut} (1×1, null: none) and the output scale factor.
     */
    public static Object[] resnetArgs(
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
        return concat(
                new Object[] {withSkip},
                args(norm1),
                args(conv1),
                new Object[] {(long) padding1, timeEmbProj != null},
                args(t),
                args(norm2),
                args(conv2),
                new Object[] {(long) padding2, shortcut != null},
                args(s),
                new Object[] {outputScaleFactor});
    }

    // How the TorchScript methods take a layer: in these orders, within their argument lists.

    /** A layer norm: weight, bias, eps. */
    private static Object[] args(LayerNorm norm) {
        return new Object[] {norm.weight(), norm.bias(), norm.eps()};
    }

    /** A group norm: weight, bias, groups, eps. */
    private static Object[] args(GroupNorm norm) {
        return new Object[] {norm.weight(), norm.bias(), (long) norm.groups(), norm.eps()};
    }

    /** A packed product with its bias: weight, bias. */
    private static Object[] args(Bf16Compute.Packed packed) {
        return new Object[] {packed.weight(), packed.bias()};
    }

    /** An attention kernel's settings: heads, scale, and whether it runs in bfloat16. */
    private static Object[] attentionArgs(int heads, double scale, long keys) {
        return new Object[] {(long) heads, scale, ScaledDotProductAttention.bf16For(keys)};
    }

    /**
     * Prepacked bfloat16 weights for rows [from, to) of a linear layer's {@code weight} (and {@code
     * bias}), for {@code rows} rows of input, owned by the weight's manager; the float32 slices are
     * freed at once.
     */
    public static Bf16Compute.Packed packRows(
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
    public static Bf16Compute.Packed packStacked(long rows, NDArray... weights) {
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
    public static Bf16Compute.Packed packPointwiseAsLinear(
            NDArray weight, NDArray bias, long rows) {
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
