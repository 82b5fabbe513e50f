package sdbatch.pipeline.bench;

import java.util.List;
import sdbatch.pipeline.config.UNetConfig;

/**
 * The analytic floating-point operation count of one {@link
 * sdbatch.pipeline.models.UNet2DConditionModel} forward, walked from its config the way the model
 * is built.
 *
 * <p>Counted: every convolution ({@code 2 · Cin · Cout · k² · Hout · Wout} per image), every linear
 * layer ({@code 2 · in · out} per token) and the two attention matmuls ({@code 2 · Lq · Lk · inner}
 * each per image, for q·kᵀ and probs·v, summed over heads). A multiply-add is two operations, the
 * convention of torch's {@code FlopCounterMode} and fvcore's counts used for the diffusers anchor.
 * That anchor (issue 7: 343 GFLOP for the SD 1.5 shape at batch 2, 32×32) leaves the attention
 * matmuls out, because torch's counter has no formula for the CPU kernel of {@code
 * scaled_dot_product_attention}; {@code attentionMatmuls = false} reproduces it. Not counted at
 * all: normalisations, activations, softmax, residual adds and the up-sampling copy, which are
 * linear in the activation size and well under 1% of the total for Stable Diffusion shapes.
 */
public final class UNetFlops {
    private UNetFlops() {}

    /**
     * FLOPs of one forward at {@code batch} rows of {@code height × width} latents with {@code
     * textTokens} encoder tokens (77 for CLIP).
     *
     * @param attentionMatmuls whether to count the q·kᵀ and probs·v products (true: the work done;
     *     false: the convention of the diffusers anchor figures)
     */
    public static long forward(
            UNetConfig c,
            int batch,
            int height,
            int width,
            int textTokens,
            boolean attentionMatmuls) {
        if (batch < 1 || height < 1 || width < 1 || textTokens < 1) {
            throw new IllegalArgumentException(
                    "batch, height, width and textTokens must be >= 1, got "
                            + batch
                            + ", "
                            + height
                            + ", "
                            + width
                            + ", "
                            + textTokens);
        }
        Counter f = new Counter(c, textTokens, attentionMatmuls);
        List<Integer> ch = c.blockOutChannels();
        int n = ch.size();
        int temb = c.timeEmbedDim();
        long h = height;
        long w = width;

        // time_embedding: linear_1, linear_2 on one row per image
        f.linear(1, ch.get(0), temb);
        f.linear(1, temb, temb);
        if (c.hasTextTimeEmbedding()) {
            // SDXL's add_embedding: linear_1, linear_2 on the image's pooled text and time ids
            f.linear(1, c.projectionClassEmbeddingsInputDim(), temb);
            f.linear(1, temb, temb);
        }
        // conv_in
        f.conv(c.inChannels(), ch.get(0), c.convInKernel(), h, w);

        // down blocks; the skip connections' channel counts are what the up blocks concatenate
        int out = ch.get(0);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            boolean cross = "CrossAttnDownBlock2D".equals(c.downBlockTypes().get(i));
            for (int j = 0; j < c.layersPerBlock().get(i); j++) {
                f.resnet(j == 0 ? in : out, out, h, w);
                if (cross) {
                    f.transformer(out, c.numHeads(i), c.transformerLayersPerBlock().get(i), h, w);
                }
            }
            if (i < n - 1) {
                // Downsample2D: 3x3, stride 2
                h = (h + 1) / 2;
                w = (w + 1) / 2;
                f.conv(out, out, 3, h, w);
            }
        }

        // mid block: resnet, transformer, resnet
        if (c.midBlockType() != null) {
            int m = ch.get(n - 1);
            f.resnet(m, m, h, w);
            f.transformer(m, c.numHeads(n - 1), c.transformerLayersPerBlock().get(n - 1), h, w);
            f.resnet(m, m, h, w);
        }

        // up blocks (diffusers' res_skip_channels / resnet_in_channels rule)
        out = ch.get(n - 1);
        for (int i = 0; i < n; i++) {
            int r = n - 1 - i;
            int prev = out;
            out = ch.get(r);
            int in = ch.get(Math.max(r - 1, 0));
            int layers = c.layersPerBlock().get(r) + 1;
            boolean cross = "CrossAttnUpBlock2D".equals(c.upBlockTypes().get(i));
            for (int j = 0; j < layers; j++) {
                int skip = j == layers - 1 ? in : out;
                int resIn = j == 0 ? prev : out;
                f.resnet(resIn + skip, out, h, w);
                if (cross) {
                    f.transformer(out, c.numHeads(r), c.transformerLayersPerBlock().get(r), h, w);
                }
            }
            if (i < n - 1) {
                // Upsample2D: nearest x2, then 3x3
                h *= 2;
                w *= 2;
                f.conv(out, out, 3, h, w);
            }
        }

        // conv_out (conv_norm_out and SiLU are not counted)
        f.conv(ch.get(0), c.outChannels(), c.convOutKernel(), h, w);
        return f.total * batch;
    }

    /** Accumulates per-image FLOPs. */
    private static final class Counter {
        private final UNetConfig c;
        private final int textTokens;
        private final int temb;
        private final boolean attentionMatmuls;
        long total;

        Counter(UNetConfig c, int textTokens, boolean attentionMatmuls) {
            this.c = c;
            this.attentionMatmuls = attentionMatmuls;
            this.textTokens = textTokens;
            this.temb = c.timeEmbedDim();
        }

        /** A stride-1 or stride-2 convolution whose output is {@code h × w}. */
        void conv(long in, long out, long k, long h, long w) {
            total += 2 * in * out * k * k * h * w;
        }

        /** q·kᵀ and probs·v: each 2 · Lq · Lk · inner, summed over heads. */
        void attention(long lq, long lk, long inner) {
            if (attentionMatmuls) {
                total += 2 * 2 * lq * lk * inner;
            }
        }

        void linear(long tokens, long in, long out) {
            total += 2 * tokens * in * out;
        }

        /** ResnetBlock2D: conv1 3x3, time_emb_proj, conv2 3x3, conv_shortcut 1x1 if needed. */
        void resnet(long in, long out, long h, long w) {
            conv(in, out, 3, h, w);
            linear(1, temb, out);
            conv(out, out, 3, h, w);
            if (in != out) {
                conv(in, out, 1, h, w);
            }
        }

        /**
         * Transformer2DModel: proj_in, then per layer self-attention, cross-attention to the text
         * and a GEGLU feed-forward (dim → 2·4·dim, 4·dim → dim), then proj_out.
         */
        void transformer(long channels, int heads, int layers, long h, long w) {
            long tokens = h * w;
            long inner = channels; // heads * (channels / heads)
            long cross = c.crossAttentionDim();
            linear(tokens, channels, inner); // proj_in (1x1 conv or linear: same count)
            for (int l = 0; l < layers; l++) {
                // attn1: q, k, v, out and the two matmuls over tokens x tokens
                linear(tokens, inner, 3 * inner);
                attention(tokens, tokens, inner);
                linear(tokens, inner, inner);
                // attn2: q from the image tokens, k and v from the text tokens
                linear(tokens, inner, inner);
                linear(textTokens, cross, 2 * inner);
                attention(tokens, textTokens, inner);
                linear(tokens, inner, inner);
                // ff: GEGLU projection to 2 x 4·inner, then 4·inner -> inner
                linear(tokens, inner, 8 * inner);
                linear(tokens, 4 * inner, inner);
            }
            linear(tokens, inner, channels); // proj_out
        }
    }
}
