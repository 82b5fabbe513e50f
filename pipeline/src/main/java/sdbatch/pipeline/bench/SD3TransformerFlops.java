package sdbatch.pipeline.bench;

import sdbatch.pipeline.config.SD3TransformerConfig;

/**
 * The analytic floating-point operation count of one {@link
 * sdbatch.pipeline.models.SD3Transformer2DModel} forward, in {@link UNetFlops}' convention (a
 * multiply-add is two operations; linear layers {@code 2 · in · out} per token they apply to; the
 * two attention products {@code 2 · Lq · Lk · inner} each; normalisations, activations, softmax and
 * residual adds not counted).
 *
 * <p>What a token stream passes through, per image: the patch embedding and {@code proj_out} on the
 * N image tokens; {@code context_embedder} on the M text tokens; per joint block q, k, v and {@code
 * to_out} plus the feed-forward on the image tokens, {@code add_q/k/v_proj}, {@code to_add_out} and
 * {@code ff_context} on the text tokens (the last, context-pre-only block projects the text tokens
 * to keys and values only), the joint attention over N + M tokens, and for SD3.5's dual attention
 * layers a second self-attention over the image tokens; the modulation linears and the
 * time/pooled-text embeddings once per image.
 */
public final class SD3TransformerFlops {
    private SD3TransformerFlops() {}

    /** The sinusoidal timestep projection's width, the input of {@code timestep_embedder}. */
    static final int TIMESTEP_CHANNELS = 256;

    /**
     * FLOPs of one forward at {@code batch} rows of {@code height × width} latents with {@code
     * textTokens} prompt-embedding tokens (77 CLIP + {@code max_sequence_length} T5 in SD3).
     *
     * @param attentionMatmuls whether to count the q·kᵀ and probs·v products
     */
    public static long forward(
            SD3TransformerConfig c,
            int batch,
            int height,
            int width,
            int textTokens,
            boolean attentionMatmuls) {
        int p = c.patchSize();
        if (batch < 1 || textTokens < 1 || height < p || width < p) {
            throw new IllegalArgumentException(
                    "batch and textTokens must be >= 1 and the latents at least one patch, got "
                            + batch
                            + ", "
                            + textTokens
                            + ", "
                            + height
                            + " x "
                            + width);
        }
        long n = (long) (height / p) * (width / p);
        long m = textTokens;
        long d = c.innerDim();
        long f = 0;
        f += linear(n, (long) c.inChannels() * p * p, d); // pos_embed.proj (a p×p, stride-p conv)
        f += linear(1, TIMESTEP_CHANNELS, d) + linear(1, d, d); // timestep_embedder
        f += linear(1, c.pooledProjectionDim(), d) + linear(1, d, d); // text_embedder
        f += linear(m, c.jointAttentionDim(), c.captionProjectionDim()); // context_embedder
        for (int i = 0; i < c.numLayers(); i++) {
            boolean last = i == c.numLayers() - 1;
            boolean dual = c.dualAttentionLayers().contains(i);
            f += linear(1, d, (dual ? 9 : 6) * d); // norm1 (AdaLayerNormZero / ...ZeroX)
            f += linear(1, d, (last ? 2 : 6) * d); // norm1_context
            f += 4 * linear(n, d, d); // to_q, to_k, to_v, to_out.0
            f += (last ? 3 : 4) * linear(m, d, d); // add_q/k/v_proj, to_add_out
            if (attentionMatmuls) {
                f += 2 * 2 * (n + m) * (n + m) * d;
            }
            if (dual) {
                f += 4 * linear(n, d, d);
                if (attentionMatmuls) {
                    f += 2 * 2 * n * n * d;
                }
            }
            f += linear(n, d, 4 * d) + linear(n, 4 * d, d); // ff
            if (!last) {
                f += linear(m, d, 4 * d) + linear(m, 4 * d, d); // ff_context
            }
        }
        f += linear(1, d, 2 * d); // norm_out
        f += linear(n, d, (long) p * p * c.outChannels()); // proj_out
        return batch * f;
    }

    private static long linear(long tokens, long in, long out) {
        return 2 * tokens * in * out;
    }
}
