package sdbatch.pipeline.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.AddedConditions;
import sdbatch.pipeline.models.UNet2DConditionModel;

/**
 * Random inputs of one UNet forward: sample [batch, in, latent, latent], timestep 500 and text
 * states [batch, {@value BenchRun#TEXT_TOKENS}, cross-attention dim], from fixed seeds; for an SDXL
 * UNet also its added conditions (a random pooled embedding and the time ids of an image eight
 * times the latent size, uncropped).
 */
record UNetInputs(NDArray sample, NDArray timestep, NDArray textStates, AddedConditions added) {

    static UNetInputs random(NDManager manager, UNetConfig c, int batch, int latent) {
        AddedConditions added = null;
        if (c.hasTextTimeEmbedding()) {
            float px = latent * 8f;
            float[] ids = new float[batch * 6];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(new float[] {px, px, 0, 0, px, px}, 0, ids, b * 6, 6);
            }
            added =
                    new AddedConditions(
                            LibtorchThroughput.random(
                                    manager, new Shape(batch, c.addedTextEmbedDim()), 3),
                            manager.create(ids, new Shape(batch, 6)));
        }
        return new UNetInputs(
                LibtorchThroughput.random(
                        manager, new Shape(batch, c.inChannels(), latent, latent), 1),
                manager.create(500f),
                LibtorchThroughput.random(
                        manager, new Shape(batch, BenchRun.TEXT_TOKENS, c.crossAttentionDim()), 2),
                added);
    }

    /** One forward of {@code unet} on these inputs, its output and temporaries freed. */
    void forward(UNet2DConditionModel unet) {
        try (NDScope s = new NDScope()) {
            s.suppressNotUsedWarning();
            unet.forward(sample, timestep, textStates, added, null);
        }
    }
}
