package sdbatch.pipeline.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.UNet2DConditionModel;

/**
 * Random inputs of one UNet forward: sample [batch, in, latent, latent], timestep 500 and text
 * states [batch, {@value BenchRun#TEXT_TOKENS}, cross-attention dim], from fixed seeds.
 */
record UNetInputs(NDArray sample, NDArray timestep, NDArray textStates) {

    static UNetInputs random(NDManager manager, UNetConfig c, int batch, int latent) {
        return new UNetInputs(
                LibtorchThroughput.random(
                        manager, new Shape(batch, c.inChannels(), latent, latent), 1),
                manager.create(500f),
                LibtorchThroughput.random(
                        manager, new Shape(batch, BenchRun.TEXT_TOKENS, c.crossAttentionDim()), 2));
    }

    /** One forward of {@code unet} on these inputs, its output and temporaries freed. */
    void forward(UNet2DConditionModel unet) {
        try (NDScope s = new NDScope()) {
            s.suppressNotUsedWarning();
            unet.forward(sample, timestep, textStates);
        }
    }
}
