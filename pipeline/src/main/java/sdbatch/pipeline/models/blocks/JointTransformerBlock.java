package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code JointTransformerBlock} (models/attention.py), the MMDiT block of SD3
 * (https://huggingface.co/papers/2403.03206): image and context tokens each get their own
 * AdaLayerNorm-Zero modulation from the timestep-and-pooled-text embedding, attend jointly, and
 * each goes through its own gated feed-forward. The last block is {@code context_pre_only}: its
 * context side has only {@code norm1_context} (an AdaLayerNormContinuous) and returns no context.
 * SD3.5's dual-attention blocks ({@code use_dual_attention}) add a second, image-only
 * self-attention ({@code attn2}) with its own modulation ({@code SD35AdaLayerNormZeroX}).
 */
public final class JointTransformerBlock {
    private final int dim;
    private final boolean contextPreOnly;
    final AdaLayerNormZero norm1;
    final AdaLayerNormZero norm1Context;
    final AdaLayerNormContinuous norm1ContextContinuous;
    final JointAttention attn;
    final JointAttention attn2;
    final GeluApproximateFeedForward ff;
    final GeluApproximateFeedForward ffContext;

    /** The block's outputs: the context tokens (null after the last block) and image tokens. */
    public record Output(NDArray context, NDArray hidden) {}

    /**
     * Block {@code index} of {@code transformer_blocks}, as diffusers' {@code
     * SD3Transformer2DModel.__init__} makes it: the last one is {@code context_pre_only}, those in
     * {@code dual_attention_layers} have {@code attn2}.
     */
    public JointTransformerBlock(Weights w, SD3TransformerConfig config, int index) {
        int dim = config.innerDim();
        boolean contextPreOnly = index == config.numLayers() - 1;
        boolean useDualAttention = config.dualAttentionLayers().contains(index);
        this.dim = dim;
        this.contextPreOnly = contextPreOnly;
        this.norm1 = new AdaLayerNormZero(w.prefix("norm1"), dim, useDualAttention);
        if (contextPreOnly) {
            this.norm1Context = null;
            this.norm1ContextContinuous =
                    new AdaLayerNormContinuous(w.prefix("norm1_context"), dim, dim);
        } else {
            this.norm1Context = new AdaLayerNormZero(w.prefix("norm1_context"), dim, false);
            this.norm1ContextContinuous = null;
        }
        this.attn = new JointAttention(w.prefix("attn"), config, true, contextPreOnly);
        this.attn2 =
                useDualAttention
                        ? new JointAttention(w.prefix("attn2"), config, false, false)
                        : null;
        this.ff = new GeluApproximateFeedForward(w.prefix("ff"), dim);
        this.ffContext =
                contextPreOnly ? null : new GeluApproximateFeedForward(w.prefix("ff_context"), dim);
    }

    public boolean contextPreOnly() {
        return contextPreOnly;
    }

    // Port of diffusers attention.JointTransformerBlock.forward
    public Output forward(NDArray hidden, NDArray context, NDArray temb) {
        NDList out =
                InnerScope.keepAll(
                        () -> {
                            AdaLayerNormZero.Output n = norm1.forward(hidden, temb);
                            AdaLayerNormZero.Output c = null;
                            NDArray normContext;
                            if (contextPreOnly) {
                                normContext = norm1ContextContinuous.forward(context, temb);
                            } else {
                                c = norm1Context.forward(context, temb);
                                normContext = c.hidden();
                            }
                            // Attention.
                            JointAttention.Output a = attn.forward(n.hidden(), normContext);
                            // Process attention outputs for the `hidden_states`.
                            NDArray h = gated(hidden, n.gateMsa(), a.hidden());
                            if (attn2 != null) {
                                NDArray a2 = attn2.forward(n.hidden2(), null).hidden();
                                h = gated(h, n.gateMsa2(), a2);
                            }
                            h = feedForward(h, n, ff);
                            // Process attention outputs for the `encoder_hidden_states`.
                            if (contextPreOnly) {
                                return new NDList(h);
                            }
                            NDArray e = gated(context, c.gateMsa(), a.context());
                            return new NDList(h, feedForward(e, c, ffContext));
                        });
        return new Output(out.size() > 1 ? out.get(1) : null, out.get(0));
    }

    /** {@code x + gate[:, None] * y}: a gated residual. */
    private static NDArray gated(NDArray x, NDArray gate, NDArray y) {
        return x.add(gate.expandDims(1).mul(y));
    }

    /**
     * The feed-forward half of either stream: {@code x + gate_mlp * ff(norm2(x) * (1 + scale_mlp) +
     * shift_mlp)}, with the stream's modulations {@code m}.
     */
    private NDArray feedForward(
            NDArray x, AdaLayerNormZero.Output m, GeluApproximateFeedForward feedForward) {
        NDArray normed =
                AdaLayerNormZero.modulate(
                        AdaLayerNormZero.layerNorm(x, dim), m.scaleMlp(), m.shiftMlp());
        return gated(x, m.gateMlp(), feedForward.forward(normed));
    }
}
