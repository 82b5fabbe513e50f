package sdbatch.pipeline.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.models.UNet2DConditionModel;

/**
 * What {@link DenoiserTiming} times: one forward of a model family's denoiser (the UNet of SD
 * 1.x/2.x and SDXL, SD3's transformer) on random inputs, and its analytic FLOP count.
 *
 * @param <C> the denoiser's config, which its FLOP count reads
 */
final class TimedDenoiser<C> {
    /** SD3's prompt-embedding tokens: 77 of the CLIPs and T5's default 256. */
    static final int SD3_TEXT_TOKENS = 77 + 256;

    /** Makes the random inputs of one forward and the action that runs it. */
    @FunctionalInterface
    private interface Inputs {
        Runnable forwardOn(NDManager arrays, int batch, int latent);
    }

    /** An analytic FLOP count: {@link UNetFlops#forward}, {@link SD3TransformerFlops#forward}. */
    @FunctionalInterface
    private interface Flops<T> {
        long forward(
                T config,
                int batch,
                int height,
                int width,
                int textTokens,
                boolean attentionMatmuls);
    }

    private final Inputs inputs;
    private final C config;
    private final int textTokens;
    private final Flops<C> flops;

    private TimedDenoiser(Inputs inputs, C config, int textTokens, Flops<C> flops) {
        this.inputs = inputs;
        this.config = config;
        this.textTokens = textTokens;
        this.flops = flops;
    }

    /**
     * Random inputs of one forward at {@code batch} rows of {@code latent × latent} latents, made
     * in {@code arrays}; the returned action runs one forward and frees what it made.
     */
    Runnable forwardOn(NDManager arrays, int batch, int latent) {
        return inputs.forwardOn(arrays, batch, latent);
    }

    /**
     * FLOPs of one forward at these sizes.
     *
     * @param attentionMatmuls whether the attention products are counted
     */
    long flop(int batch, int latent, boolean attentionMatmuls) {
        return flops.forward(config, batch, latent, latent, textTokens, attentionMatmuls);
    }

    /** A UNet, with CLIP's 77 text tokens ({@link UNetInputs}, {@link UNetFlops}). */
    static TimedDenoiser<UNetConfig> of(UNet2DConditionModel unet) {
        return new TimedDenoiser<>(
                (arrays, batch, latent) -> {
                    UNetInputs in = UNetInputs.random(arrays, unet.config(), batch, latent);
                    return () -> in.forward(unet);
                },
                unet.config(),
                BenchRun.TEXT_TOKENS,
                UNetFlops::forward);
    }

    /**
     * SD3's transformer at timestep 500 with {@value #SD3_TEXT_TOKENS} prompt tokens and a pooled
     * embedding, from fixed seeds ({@link SD3TransformerFlops}).
     */
    static TimedDenoiser<SD3TransformerConfig> of(SD3Transformer2DModel transformer) {
        return new TimedDenoiser<>(
                (arrays, batch, latent) -> {
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
                },
                transformer.config(),
                SD3_TEXT_TOKENS,
                SD3TransformerFlops::forward);
    }
}
