package sdbatch.pipeline.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.models.UNet2DConditionModel;

/**
 * What {@link DenoiserTiming} times: one forward of a model family's denoiser (the UNet of SD
 * 1.x/2.x and SDXL, SD3's transformer) on random inputs, and its analytic FLOP count.
 */
interface TimedDenoiser {
    /** SD3's prompt-embedding tokens: 77 of the CLIPs and T5's default 256. */
    int SD3_TEXT_TOKENS = 77 + 256;

    /**
     * Random inputs of one forward at {@code batch} rows of {@code latent × latent} latents, made
     * in {@code arrays}; the returned action runs one forward and frees what it made.
     */
    Runnable forwardOn(NDManager arrays, int batch, int latent);

    /**
     * FLOPs of one forward at these sizes.
     *
     * @param attentionMatmuls whether the attention products are counted
     */
    long flop(int batch, int latent, boolean attentionMatmuls);

    /** A UNet, with CLIP's 77 text tokens ({@link UNetInputs}, {@link UNetFlops}). */
    static TimedDenoiser of(UNet2DConditionModel unet) {
        return new TimedDenoiser() {
            @Override
            public Runnable forwardOn(NDManager arrays, int batch, int latent) {
                UNetInputs in = UNetInputs.random(arrays, unet.config(), batch, latent);
                return () -> in.forward(unet);
            }

            @Override
            public long flop(int batch, int latent, boolean attentionMatmuls) {
                return UNetFlops.forward(
                        unet.config(),
                        batch,
                        latent,
                        latent,
                        BenchRun.TEXT_TOKENS,
                        attentionMatmuls);
            }
        };
    }

    /**
     * SD3's transformer at timestep 500 with {@value #SD3_TEXT_TOKENS} prompt tokens and a pooled
     * embedding, from fixed seeds ({@link SD3TransformerFlops}).
     */
    static TimedDenoiser of(SD3Transformer2DModel transformer) {
        return new TimedDenoiser() {
            @Override
            public Runnable forwardOn(NDManager arrays, int batch, int latent) {
                var c = transformer.config();
                NDArray sample =
                        LibtorchThroughput.random(
                                arrays, new Shape(batch, c.inChannels(), latent, latent), 1);
                NDArray timestep = arrays.create(500f);
                NDArray prompt =
                        LibtorchThroughput.random(
                                arrays,
                                new Shape(batch, SD3_TEXT_TOKENS, c.jointAttentionDim()),
                                2);
                NDArray pooled =
                        LibtorchThroughput.random(
                                arrays, new Shape(batch, c.pooledProjectionDim()), 3);
                return () -> {
                    try (NDScope s = new NDScope()) {
                        s.suppressNotUsedWarning();
                        transformer.forward(sample, timestep, prompt, pooled);
                    }
                };
            }

            @Override
            public long flop(int batch, int latent, boolean attentionMatmuls) {
                return SD3TransformerFlops.forward(
                        transformer.config(),
                        batch,
                        latent,
                        latent,
                        SD3_TEXT_TOKENS,
                        attentionMatmuls);
            }
        };
    }
}
