package sdbatch.pipeline.models.kernels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import sdbatch.pipeline.compute.ComputeOptions;

/**
 * libtorch's fused {@code scaled_dot_product_attention}, which DJL 0.36 does not expose as an
 * NDArray op, reached through a one-op TorchScript module written here in Java: the archive
 * (pickled module object plus its TorchScript source) is assembled in memory and loaded with DJL's
 * {@code JniUtils.loadModule}. Nothing is downloaded or generated outside the JVM, and no Python is
 * involved.
 *
 * <p>Why: diffusers' default attention processor ({@code AttnProcessor2_0}) calls this op. On CPU
 * its flash-attention kernel works on blocks of keys with an online softmax, so the [heads, Lq, Lk]
 * score matrix is never written to memory; our NDArray formulation ({@link
 * sdbatch.pipeline.models.blocks.Attention#attend}) makes three memory-bound passes over it.
 * Measured on the development machine (2 threads, float32, [batch·heads, tokens, head width]):
 * 16×4096×40 294 ms against 491 ms, 16×1024×40 19.9 against 24.6 ms (BENCHMARKS.md).
 *
 * <p>Used for float32 inputs with heads up to 512 wide unless {@link ComputeOptions#fusedAttention}
 * is off; if the module cannot be loaded (a libtorch without TorchScript), the NDArray path is used
 * and the reason is kept in {@link #unavailableReason()}.
 */
public final class ScaledDotProductAttention {

    private static final long MAX_HEAD_WIDTH = 512;

    // With --dtype bf16, attention over at least this many keys runs in bfloat16 (4096 keys: 313
    // → 192 ms, 1024: 30 → 18 ms); over the 77 prompt tokens it was slower (12.3 → 14.1 ms).
    private static final long MIN_BF16_KEYS = 256;

    private static final TorchScriptOps.Lazy MODULE =
            TorchScriptOps.Lazy.fromResource("SdbatchSdpa", null);

    private ScaledDotProductAttention() {}

    /**
     * Whether the fused path is switched on in the current {@link ComputeOptions} (it may still be
     * unavailable).
     */
    public static boolean enabled() {
        return ComputeOptions.current().fusedAttention();
    }

    /**
     * Whether {@link #apply} may be used for these inputs: float32, and heads no wider than 512
     * (the VAE's single head: libtorch's CPU flash kernel keeps no score matrix there either, where
     * the chunked NDArray path left the C heap 1.1 GB larger at a 1024² decode's 128² attention —
     * BENCHMARKS.md round 9). Wider heads keep the chunked path.
     */
    public static boolean usable(NDArray q) {
        return enabled()
                && q.getDataType() == DataType.FLOAT32
                && q.getShape().get(q.getShape().dimension() - 1) <= MAX_HEAD_WIDTH
                && q.getManager() instanceof PtNDManager
                && module() != null;
    }

    /** Why the fused path is unavailable, or null if it loaded (or was not tried yet). */
    public static String unavailableReason() {
        return MODULE.unavailableReason();
    }

    /**
     * {@code softmax(q kᵀ · scale) v} for [N, Lq, d] queries and [N, Lk, d] keys and values, in the
     * manager (and scope) of {@code q}.
     */
    public static NDArray apply(NDArray q, NDArray k, NDArray v, double scale) {
        // As [1, N, L, d]: libtorch's CPU flash-attention kernel takes 4-D inputs only; other
        // ranks fall back to its unfused math path (slower than ours: 16×4096×40 went from 10 s
        // to 16 s per SD 1.5 step at 64² latents).
        String method = bf16For(k.getShape().get(1)) ? "forward_bf16" : "forward";
        return TorchScriptOps.callMethod(
                        module(), method, q.expandDims(0), k.expandDims(0), v.expandDims(0), scale)
                .squeeze(0);
    }

    /**
     * Multi-head attention on [B, L, heads, d] queries and [B, Lk, heads, d] keys and values — the
     * projections' outputs viewed per head, no copies — returning [B, L, heads·d]. libtorch's
     * kernel takes the heads-second [B, heads, L, d] layout as strided views and writes its output
     * so that the transpose back is contiguous: the four head split/merge copies of the NDArray
     * path (at 64×64 latents [2, 4096, 320] each, per attention) are not made.
     */
    public static NDArray applyHeads(NDArray q, NDArray k, NDArray v, double scale) {
        boolean bf16 = bf16For(k.getShape().get(1));
        return TorchScriptOps.callMethod(module(), "heads", q, k, v, scale, bf16);
    }

    /** Whether attention over this many keys runs in bfloat16 now. */
    static boolean bf16For(long keys) {
        return Bf16Compute.attention() && keys >= MIN_BF16_KEYS;
    }

    /** Whether heads this wide may use the fused kernel (switched on, and at most 512 wide). */
    public static boolean headWidthSupported(long width) {
        return enabled() && width <= MAX_HEAD_WIDTH;
    }

    private static PtSymbolBlock module() {
        return MODULE.get();
    }
}
