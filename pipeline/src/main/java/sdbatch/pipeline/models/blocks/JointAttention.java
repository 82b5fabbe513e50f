package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.models.kernels.ScaledDotProductAttention;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code Attention} as SD3's joint blocks build it, run by {@code JointAttnProcessor2_0}
 * (models/attention_processor.py): the image tokens' {@code to_q/to_k/to_v} and, for the joint
 * attention, the context tokens' {@code add_q_proj/add_k_proj/add_v_proj}, each per head optionally
 * RMS-normalised ({@code qk_norm}: {@code norm_q}, {@code norm_k}, {@code norm_added_q}, {@code
 * norm_added_k}); one softmax attention over [image ; context] tokens, split back: {@code to_out.0}
 * for the image part, {@code to_add_out} for the context part (absent in the last, {@code
 * context_pre_only} block). SD3.5's {@code attn2} is the same without the context.
 */
public final class JointAttention {
    private final int heads;
    private final int headDim;
    final Linear toQ;
    final Linear toK;
    final Linear toV;
    final Linear toOut;
    final RMSNorm normQ;
    final RMSNorm normK;
    final Linear addQ;
    final Linear addK;
    final Linear addV;
    final Linear toAddOut;
    final RMSNorm normAddedQ;
    final RMSNorm normAddedK;

    /** The attention's outputs: image tokens and (joint, not context_pre_only) context tokens. */
    public record Output(NDArray hidden, NDArray context) {}

    /**
     * @param config the transformer's: {@code inner_dim} wide, {@code num_attention_heads} of
     *     {@code attention_head_dim}, {@code qk_norm} null or {@code rms_norm}
     * @param joint whether the context tokens take part ({@code added_kv_proj_dim}: {@code attn})
     *     or not ({@code attn2})
     * @param contextPreOnly the last block's attention: no {@code to_add_out}
     */
    public JointAttention(
            Weights w, SD3TransformerConfig config, boolean joint, boolean contextPreOnly) {
        int dim = config.innerDim();
        this.heads = config.numAttentionHeads();
        this.headDim = config.attentionHeadDim();
        int inner = heads * headDim;
        boolean rms = "rms_norm".equals(config.qkNorm());
        toQ = new Linear(w.prefix("to_q"), dim, inner, true);
        toK = new Linear(w.prefix("to_k"), dim, inner, true);
        toV = new Linear(w.prefix("to_v"), dim, inner, true);
        toOut = new Linear(w.prefix("to_out.0"), inner, dim, true);
        normQ = rms ? new RMSNorm(w.prefix("norm_q"), headDim, 1e-6) : null;
        normK = rms ? new RMSNorm(w.prefix("norm_k"), headDim, 1e-6) : null;
        if (joint) {
            addQ = new Linear(w.prefix("add_q_proj"), dim, inner, true);
            addK = new Linear(w.prefix("add_k_proj"), dim, inner, true);
            addV = new Linear(w.prefix("add_v_proj"), dim, inner, true);
            toAddOut = contextPreOnly ? null : new Linear(w.prefix("to_add_out"), inner, dim, true);
            normAddedQ = rms ? new RMSNorm(w.prefix("norm_added_q"), headDim, 1e-6) : null;
            normAddedK = rms ? new RMSNorm(w.prefix("norm_added_k"), headDim, 1e-6) : null;
        } else {
            addQ = addK = addV = toAddOut = null;
            normAddedQ = normAddedK = null;
        }
    }

    /**
     * Attention of [B, N, dim] image tokens, with [B, M, dim] context tokens when joint (null for
     * {@code attn2}); the output's context is null for {@code attn2} and for the last block.
     */
    // Port of diffusers attention_processor.JointAttnProcessor2_0.__call__
    public Output forward(NDArray hidden, NDArray context) {
        long n = hidden.getShape().get(1);
        // `sample` projections, [B, L, heads, head_dim]
        NDArray q = norm(normQ, heads(toQ.forward(hidden)));
        NDArray k = norm(normK, heads(toK.forward(hidden)));
        NDArray v = heads(toV.forward(hidden));
        // `context` projections
        if (context != null) {
            q = q.concat(norm(normAddedQ, heads(addQ.forward(context))), 1);
            k = k.concat(norm(normAddedK, heads(addK.forward(context))), 1);
            v = v.concat(heads(addV.forward(context)), 1);
        }
        NDArray o = attend(q, k, v);
        NDArray hiddenOut = o;
        NDArray contextOut = null;
        if (context != null) {
            // Split the attention outputs.
            long total = o.getShape().get(1);
            hiddenOut = o.get(new NDIndex(":, 0:{}, :", n));
            if (toAddOut != null) {
                contextOut = toAddOut.forward(o.get(new NDIndex(":, {}:{}, :", n, total)));
            }
        }
        return new Output(toOut.forward(hiddenOut), contextOut);
    }

    private NDArray heads(NDArray t) {
        Shape s = t.getShape();
        return t.reshape(s.get(0), s.get(1), heads, headDim);
    }

    private static NDArray norm(RMSNorm norm, NDArray t) {
        return norm == null ? t : norm.forward(t);
    }

    /**
     * {@code F.scaled_dot_product_attention} on [B, L, heads, d] (scale {@code 1/sqrt(d)}), giving
     * [B, L, heads·d]: libtorch's fused kernel where usable, else {@link Attention#attend}.
     */
    private NDArray attend(NDArray q, NDArray k, NDArray v) {
        double scale = 1.0 / Math.sqrt(headDim);
        if (ScaledDotProductAttention.usable(q)) {
            return ScaledDotProductAttention.applyHeads(q, k, v, scale);
        }
        Shape s = q.getShape();
        long b = s.get(0);
        long l = s.get(1);
        NDArray o =
                Attention.attend(split(q), split(k), split(v), scale, false)
                        .reshape(b, heads, l, headDim)
                        .transpose(0, 2, 1, 3)
                        .reshape(b, l, (long) heads * headDim);
        return o;
    }

    /** [B, L, heads, d] -> [B·heads, L, d]. */
    private NDArray split(NDArray t) {
        Shape s = t.getShape();
        return t.transpose(0, 2, 1, 3).reshape(s.get(0) * heads, s.get(1), headDim);
    }
}
