package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.models.kernels.Bf16Fused;
import sdbatch.pipeline.models.kernels.ScaledDotProductAttention;
import sdbatch.pipeline.models.layers.GroupNorm;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.LayerNorm;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code Attention} (models/attention_processor.py) with the default processor: self- or
 * cross-attention with {@code to_q}, {@code to_k}, {@code to_v} and {@code to_out.0}, and, for the
 * VAE's spatial attention, the optional {@code group_norm}, residual connection and output rescale.
 *
 * <p>Memory: the score matrix has B·heads·Lq·Lk elements, quadratic in tokens (a 1024² SD image has
 * 16384 latent tokens: 4096² per head in the first block, and the VAE's single-head attention at
 * 128² has 16384² = 2^28 scores). When it would exceed {@link #maxScoreElements()}, the scores are
 * computed in chunks: whole heads when one head's scores fit, else query rows of one head, each
 * row's softmax still over all keys. Every row's result is the same as unchunked (to float rounding
 * of the products), only the peak memory changes.
 *
 * <p>Speed: float32 attention uses libtorch's fused {@code scaled_dot_product_attention} (see
 * {@link ScaledDotProductAttention}: DJL 0.36 has no NDArray op for it), which never materializes
 * the scores. The NDArray path below (half precision, or the fused path switched off or
 * unavailable) makes three memory-bound passes (q·kᵀ writes them, softmax reads and writes them,
 * probs·v reads them). Whole-head chunks turn each chunk into a few large matrix products instead
 * of many thin ones. The default chunk of 2^22 scores (16 MiB) was the fastest of 2^20, 2^21 and
 * 2^22 on the development machine for SD 1.5's shapes ([16 heads·batch, 1024 or 4096 tokens, d = 40
 * or 80]; 4096 tokens, d = 40: 384 → 329 ms) and stays below glibc's 32 MiB mmap threshold, so
 * chunks reuse heap memory instead of faulting in fresh pages (see BENCHMARKS.md on {@code
 * GLIBC_TUNABLES}).
 *
 * <p>Precision: with a float16/bfloat16 compute dtype, {@code upcast_attention} computes the scores
 * in float32, and the softmax is always computed in float32 (diffusers' {@code upcast_softmax} for
 * the VAE; torch's half softmax accumulates in float anyway), then cast back for the product with
 * the values.
 */
public final class Attention {

    final GroupNorm groupNorm;
    final Linear toQ;
    final Linear toK;
    final Linear toV;
    final Linear toOut0;
    // to_q, to_k, to_v stacked and prepacked for Bf16Fused's self-attention (made on first use).
    final Bf16Compute.Slot qkvBf16;
    private final int heads;
    private final int dimHead;
    private final boolean upcastAttention;
    private final boolean residualConnection;
    private final float rescaleOutputFactor;

    /**
     * @param w the weights under this attention's prefix ({@code ...attn1})
     * @param queryDim width of the input
     * @param crossAttentionDim width of the keys' source, or {@code queryDim} for self-attention
     * @param heads number of heads
     * @param dimHead width of one head
     * @param qkvBias whether {@code to_q/k/v} have biases (the VAE's do, the UNet's not)
     * @param groupNormGroups groups of the input {@code group_norm}, or 0 for none
     * @param normEps epsilon of that {@code group_norm}
     * @param residualConnection add the input to the output (VAE)
     * @param rescaleOutputFactor divide the output by this
     */
    public Attention(
            Weights w,
            int queryDim,
            int crossAttentionDim,
            int heads,
            int dimHead,
            boolean qkvBias,
            boolean upcastAttention,
            int groupNormGroups,
            double normEps,
            boolean residualConnection,
            double rescaleOutputFactor) {
        int inner = heads * dimHead;
        this.groupNorm =
                groupNormGroups > 0
                        ? new GroupNorm(w.prefix("group_norm"), groupNormGroups, queryDim, normEps)
                        : null;
        this.toQ = new Linear(w.prefix("to_q"), queryDim, inner, qkvBias);
        this.toK = new Linear(w.prefix("to_k"), crossAttentionDim, inner, qkvBias);
        this.toV = new Linear(w.prefix("to_v"), crossAttentionDim, inner, qkvBias);
        this.toOut0 = new Linear(w.prefix("to_out").prefix("0"), inner, queryDim, true);
        this.qkvBf16 = w.derived(new Bf16Compute.Slot());
        this.heads = heads;
        this.dimHead = dimHead;
        this.upcastAttention = upcastAttention;
        this.residualConnection = residualConnection;
        this.rescaleOutputFactor = (float) rescaleOutputFactor;
    }

    /**
     * The limit on score-matrix elements computed at once, from the current {@link ComputeOptions}
     * (a knob for memory, never for results).
     */
    public static long maxScoreElements() {
        return ComputeOptions.current().maxScoreElements();
    }

    /**
     * Attention of tokens {@code x} [B, L, C] (or a feature map [B, C, H, W], VAE) to {@code
     * context} [B, Lk, Ck] (null: self-attention).
     */
    // Port of diffusers attention_processor.AttnProcessor2_0.__call__
    public NDArray forward(NDArray x, NDArray context) {
        return InnerScope.keep(
                () -> {
                    NDArray residual = x;
                    Shape in = x.getShape();
                    NDArray h = x;
                    boolean spatial = in.dimension() == 4;
                    if (spatial) {
                        // [B, C, H, W] -> [B, H*W, C]
                        h = h.reshape(in.get(0), in.get(1), -1).transpose(0, 2, 1);
                    }
                    if (groupNorm != null) {
                        h = groupNorm.forward(h.transpose(0, 2, 1)).transpose(0, 2, 1);
                    }
                    NDArray src = context == null ? h : context;
                    NDArray q = toQ.forward(h);
                    NDArray k = toK.forward(src);
                    NDArray v = toV.forward(src);
                    double scale = 1.0 / Math.sqrt(dimHead);
                    NDArray q4 = headsView(q);
                    NDArray o =
                            ScaledDotProductAttention.usable(q4)
                                    ? ScaledDotProductAttention.applyHeads(
                                            q4, headsView(k), headsView(v), scale)
                                    : mergeHeads(
                                            attend(
                                                    splitHeads(q),
                                                    splitHeads(k),
                                                    splitHeads(v),
                                                    scale,
                                                    upcastAttention),
                                            in.get(0));
                    NDArray out = toOut0.forward(o);
                    if (spatial) {
                        out = out.transpose(0, 2, 1).reshape(in);
                    }
                    if (residualConnection) {
                        out = out.add(residual);
                    }
                    if (rescaleOutputFactor != 1f) {
                        out = out.div(rescaleOutputFactor);
                    }
                    return out;
                });
    }

    /**
     * {@code h + forward(norm.forward(h), null)} — the transformer block's pre-norm self-attention
     * with its residual ([B, L, C] tokens; no group norm, residual or biases of its own: the UNet's
     * {@code attn1}) — in one bfloat16 call ({@link Bf16Fused}), or null where that path does not
     * apply (then the caller takes the layer-by-layer path).
     */
    NDArray fusedNormSelfAttention(LayerNorm norm, NDArray h) {
        Shape s = h.getShape();
        if (s.dimension() != 3 || !Bf16Fused.usable(h)) {
            return null;
        }
        Object[] args = bf16SelfAttentionArgs(norm, h, s.get(0) * s.get(1), s.get(1), s.get(2));
        return args == null ? null : Bf16Fused.call("self_attention", args, h);
    }

    /**
     * {@link Bf16Fused}'s arguments for this attention as the transformer block's self-attention
     * after {@code norm}, over {@code tokens} tokens of width {@code width} ({@code rows} in all),
     * or null where that path does not apply. Packs the weights on first use.
     */
    Object[] bf16SelfAttentionArgs(
            LayerNorm norm, NDArray like, long rows, long tokens, long width) {
        if (!plainTransformerAttention() || toK.weight().getShape().get(1) != width) {
            return null;
        }
        Bf16Compute.Packed qkv =
                qkvBf16.get(
                        like,
                        () ->
                                Bf16Fused.packStacked(
                                        rows, toQ.weight(), toK.weight(), toV.weight()));
        return Bf16Fused.selfAttentionArgs(
                norm, qkv, toOut0.bf16Packed(like, rows), heads, scale(), tokens);
    }

    /**
     * {@link Bf16Fused}'s arguments for this attention as the transformer block's cross-attention
     * after {@code norm}, from {@code rows} query rows to {@code context} [B, Lk, Ck], or null
     * where that path does not apply. Packs the weights on first use.
     */
    Object[] bf16CrossAttentionArgs(LayerNorm norm, NDArray like, long rows, NDArray context) {
        Shape c = context.getShape();
        if (!plainTransformerAttention()
                || c.dimension() != 3
                || toK.weight().getShape().get(1) != c.get(2)
                || !Bf16Compute.usable(context)) {
            return null;
        }
        long keyRows = c.get(0) * c.get(1);
        return Bf16Fused.crossAttentionArgs(
                norm,
                toQ.bf16Packed(like, rows),
                toK.bf16Packed(context, keyRows),
                toV.bf16Packed(context, keyRows),
                toOut0.bf16Packed(like, rows),
                heads,
                scale(),
                c.get(1));
    }

    /**
     * The UNet transformer's attention: no group norm, residual, rescale or q/k/v biases of its
     * own, and heads the fused attention kernel takes.
     */
    private boolean plainTransformerAttention() {
        return groupNorm == null
                && !residualConnection
                && rescaleOutputFactor == 1f
                && toQ.bias() == null
                && toK.bias() == null
                && toV.bias() == null
                && ScaledDotProductAttention.headWidthSupported(dimHead);
    }

    private double scale() {
        return 1.0 / Math.sqrt(dimHead);
    }

    /** [B, L, heads*d] viewed as [B, L, heads, d] (no copy). */
    private NDArray headsView(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, dimHead);
    }

    /** [B, L, heads*d] -> [B*heads, L, d]. */
    private NDArray splitHeads(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, dimHead)
                .transpose(0, 2, 1, 3)
                .reshape(s.get(0) * heads, s.get(1), dimHead);
    }

    /** [B*heads, L, d] -> [B, L, heads*d]. */
    private NDArray mergeHeads(NDArray t, long batch) {
        Shape s = t.getShape();
        return t.reshape(batch, heads, s.get(1), dimHead)
                .transpose(0, 2, 1, 3)
                .reshape(batch, s.get(1), (long) heads * dimHead);
    }

    /**
     * {@code softmax(q kᵀ · scale) v} for [N, Lq, d] queries and [N, Lk, d] keys and values: with
     * libtorch's fused kernel where {@link ScaledDotProductAttention} is usable (float32),
     * otherwise in chunks of at most {@link #maxScoreElements()} scores: whole heads (rows of N)
     * when one head's Lq·Lk scores fit, each chunk then being a few large matrix products;
     * otherwise query rows of one head at a time, each row's softmax still over all keys.
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, double scale, boolean upcast) {
        long n = q.getShape().get(0);
        long lq = q.getShape().get(1);
        long lk = k.getShape().get(1);
        if (ScaledDotProductAttention.usable(q)) {
            return InnerScope.keep(() -> ScaledDotProductAttention.apply(q, k, v, scale));
        }
        long limit = maxScoreElements();
        if (n * lq * lk <= limit) {
            return InnerScope.keep(() -> attendChunk(q, k, v, scale, upcast));
        }
        long headsPerChunk = limit / Math.max(1, lq * lk);
        NDList parts = new NDList();
        if (headsPerChunk >= 1) {
            for (long start = 0; start < n; start += headsPerChunk) {
                NDIndex heads = new NDIndex("{}:{}", start, Math.min(n, start + headsPerChunk));
                parts.add(
                        InnerScope.keep(
                                () ->
                                        attendChunk(
                                                q.get(heads),
                                                k.get(heads),
                                                v.get(heads),
                                                scale,
                                                upcast)));
            }
            return InnerScope.keep(() -> NDArrays.concat(parts, 0));
        }
        long rowsPerChunk = Math.max(1, limit / Math.max(1, lk));
        for (long head = 0; head < n; head++) {
            NDIndex one = new NDIndex("{}:{}", head, head + 1);
            NDArray kh = k.get(one);
            NDArray vh = v.get(one);
            NDList rows = new NDList();
            for (long start = 0; start < lq; start += rowsPerChunk) {
                NDIndex chunk =
                        new NDIndex(
                                "{}:{}, {}:{}, :",
                                head,
                                head + 1,
                                start,
                                Math.min(lq, start + rowsPerChunk));
                rows.add(InnerScope.keep(() -> attendChunk(q.get(chunk), kh, vh, scale, upcast)));
            }
            parts.add(InnerScope.keep(() -> NDArrays.concat(rows, 1)));
            kh.close();
            vh.close();
            rows.close();
        }
        return InnerScope.keep(() -> NDArrays.concat(parts, 0));
    }

    private static NDArray attendChunk(
            NDArray q, NDArray k, NDArray v, double scale, boolean upcast) {
        DataType dtype = q.getDataType();
        boolean half = dtype != DataType.FLOAT32 && dtype != DataType.FLOAT64;
        NDArray qq = q;
        NDArray kk = k;
        if (upcast && half) {
            qq = q.toType(DataType.FLOAT32, false);
            kk = k.toType(DataType.FLOAT32, false);
        }
        NDArray scores = qq.mul(scale).matMul(kk.transpose(0, 2, 1));
        if (scores.getDataType() != DataType.FLOAT32 && half) {
            scores = scores.toType(DataType.FLOAT32, false);
        }
        NDArray probs = scores.softmax(-1);
        if (probs.getDataType() != v.getDataType()) {
            probs = probs.toType(v.getDataType(), false);
        }
        return probs.matMul(v);
    }
}
