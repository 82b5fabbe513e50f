package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * A diffusers noise scheduler: the denoising loop is
 *
 * <pre>{@code
 * scheduler.setTimesteps(steps);
 * latents = noise.mul(scheduler.initNoiseSigma());
 * for (double t : scheduler.timesteps()) {
 *     NDArray in = scheduler.scaleModelInput(latents, t);
 *     NDArray eps = unet(in, t);
 *     latents = scheduler.step(eps, t, latents, noise).prevSample();
 * }
 * }</pre>
 *
 * <p>Stateful (step index, multistep history) and not thread-safe: make a new instance per
 * generation run and close it after; {@link #close()} frees the history arrays it holds. Arrays
 * returned by {@link #step} and {@link #scaleModelInput} belong to the manager of the sample passed
 * in.
 */
public interface Scheduler extends AutoCloseable {

    /** Sets the inference timesteps (diffusers' {@code set_timesteps}); resets the run state. */
    void setTimesteps(int numInferenceSteps);

    /**
     * The timesteps to run, in order (Heun repeats inner ones). Floats because some schedules are
     * not integral (Euler with Karras sigmas); the UNet takes them as float. Empty before {@link
     * #setTimesteps}.
     */
    double[] timesteps();

    /** The standard deviation of the initial noise: latents = noise × this. */
    float initNoiseSigma();

    /** Scales the denoising model input for timestep {@code t} (a new array, or sample itself). */
    NDArray scaleModelInput(NDArray sample, double t);

    /**
     * One reverse-diffusion step from {@code t}.
     *
     * @param modelOutput the model's output for {@code scaleModelInput(sample, t)}
     * @param t a value of {@link #timesteps()}
     * @param sample the current sample
     * @param noise the run's noise source; used only if {@link #drawsNoise()}, may then not be null
     */
    SchedulerOutput step(NDArray modelOutput, double t, NDArray sample, NoiseSource noise);

    /**
     * diffusers' {@code set_begin_index}: the index of the first timestep the run steps from, for
     * image-to-image, which starts part-way into the schedule ({@code get_timesteps} calls it after
     * {@link #setTimesteps}; {@link #setTimesteps} forgets it). Schedulers that find their place by
     * timestep alone (DDIM, DDPM, PNDM have no {@code set_begin_index}) ignore it.
     */
    void setBeginIndex(int beginIndex);

    /**
     * diffusers' {@code add_noise}: {@code originalSamples} noised to the level of timestep {@code
     * t} with {@code noise} (same shape), as a new array in {@code originalSamples}' manager.
     *
     * @param t a value of {@link #timesteps()} (image-to-image passes the first one it runs)
     */
    NDArray addNoise(NDArray originalSamples, NDArray noise, double t);

    /** Model evaluations per step of the schedule (2 for Heun, 1 otherwise): diffusers' order. */
    int order();

    /** Whether {@link #step} draws noise from its {@link NoiseSource} (ancestral/stochastic). */
    boolean drawsNoise();

    /** The config this scheduler was built from, read for its class. */
    SchedulerConfig config();

    /** Frees the history arrays held for the run. */
    @Override
    void close();
}
