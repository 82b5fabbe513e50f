package sdbatch.pipeline.mode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.GenerationMode;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.noise.BatchNoise;
import sdbatch.pipeline.schedulers.Scheduler;

/**
 * Text-to-image: every timestep of the schedule, and latents drawn from each image's seeded torch
 * CPU generator times the scheduler's {@code init_noise_sigma} — diffusers' {@code
 * retrieve_timesteps} and {@code prepare_latents} in {@code StableDiffusionPipeline}.
 */
public final class TextToImage implements GenerationMode {
    private final DataType dtype;

    /**
     * @param dtype the latents' dtype (the UNet's compute dtype)
     */
    public TextToImage(DataType dtype) {
        this.dtype = dtype;
    }

    @Override
    public double[] timesteps(Scheduler scheduler, ImageRequest first) {
        scheduler.setTimesteps(first.steps());
        return scheduler.timesteps();
    }

    @Override
    public NDArray firstLatents(NDManager run, BatchNoise noise, Shape shape, Scheduler scheduler) {
        // diffusers: randn_tensor(shape, generator=[...]) in float32 on CPU, then moved, then
        // latents * scheduler.init_noise_sigma.
        NDArray drawn = noise.randn(run, shape);
        NDArray latents = drawn.mul(scheduler.initNoiseSigma()).toType(dtype, false);
        drawn.close();
        return latents;
    }
}
