package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.kernels.Bf16Fused;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.LayerNorm;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code BasicTransformerBlock} (models/attention.py) in the configuration Stable
 * Diffusion uses ({@code norm_type="layer_norm"}, no ada-norm, no gating): pre-norm self-attention
 * {@code attn1}, cross-attention {@code attn2} to the text embeddings, and a GEGLU feed-forward
 * {@code ff}, each added to the residual stream.
 */
public final class BasicTransformerBlock {
    /** diffusers' {@code norm_eps} default of the block's LayerNorms. */
    public static final double NORM_EPS = 1e-5;

    final LayerNorm norm1;
    final Attention attn1;
    final LayerNorm norm2;
    final Attention attn2;
    final LayerNorm norm3;
    final FeedForward ff;

    public BasicTransformerBlock(
            Weights w,
            int dim,
            int heads,
            int dimHead,
            int crossAttentionDim,
            boolean upcastAttention) {
        this.norm1 = new LayerNorm(w.prefix("norm1"), dim, NORM_EPS);
        this.attn1 = attention(w.prefix("attn1"), dim, dim, heads, dimHead, upcastAttention);
        this.norm2 = new LayerNorm(w.prefix("norm2"), dim, NORM_EPS);
        this.attn2 =
                attention(
                        w.prefix("attn2"), dim, crossAttentionDim, heads, dimHead, upcastAttention);
        this.norm3 = new LayerNorm(w.prefix("norm3"), dim, NORM_EPS);
        this.ff = new FeedForward(w.prefix("ff"), dim, 4);
    }

    /**
     * {@code attn1} (keys from the tokens themselves: {@code keyDim = dim}) or {@code attn2} (keys
     * from the text embeddings): the block's two attentions differ only in that; neither has q/k/v
     * biases, a group norm, a residual of its own or an output rescale.
     */
    private static Attention attention(
            Weights w, int dim, int keyDim, int heads, int dimHead, boolean upcastAttention) {
        return new Attention(
                w, dim, keyDim, heads, dimHead, false, upcastAttention, 0, 0, false, 1.0);
    }

    // Port of diffusers attention.BasicTransformerBlock.forward
    public NDArray forward(NDArray x, NDArray encoderHiddenStates) {
        // The whole block in one bfloat16 call where Bf16Fused applies.
        Shape s = x.getShape();
        if (s.dimension() == 3 && Bf16Fused.usable(x)) {
            Object[] args = bf16Args(x, s.get(0) * s.get(1), s.get(1), encoderHiddenStates);
            if (args != null) {
                return Bf16Fused.call("transformer_block", args, x, encoderHiddenStates);
            }
        }
        return InnerScope.keep(
                () -> {
                    // 1. Self-Attention (norm, attention and residual in one bfloat16 call
                    // where Bf16Fused applies)
                    NDArray h = attn1.fusedNormSelfAttention(norm1, x);
                    if (h == null) {
                        h = attn1.forward(norm1.forward(x), null).add(x);
                    }
                    // 3. Cross-Attention
                    h = attn2.forward(norm2.forward(h), encoderHiddenStates).add(h);
                    // 4. Feed-forward
                    NDArray out = ff.fusedNormResidual(norm3, h);
                    return out != null ? out : ff.forward(norm3.forward(h)).add(h);
                });
    }

    /**
     * {@link Bf16Fused}'s arguments for the whole block over {@code rows} rows of {@code tokens}
     * tokens, attending to {@code context}, or null where that path does not apply. Packs the
     * weights on first use.
     */
    Object[] bf16Args(NDArray like, long rows, long tokens, NDArray context) {
        long width = norm1.weight().getShape().get(0);
        return Bf16Fused.concat(
                attn1.bf16SelfAttentionArgs(norm1, like, rows, tokens, width),
                attn2.bf16CrossAttentionArgs(norm2, like, rows, context),
                ff.bf16Args(norm3, like, rows));
    }
}
