package sdbatch.pipeline.mode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import sdbatch.pipeline.GenerationMode;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.noise.BatchNoise;
import sdbatch.pipeline.schedulers.Scheduler;

/**
 * Image-to-image, as diffusers' {@code StableDiffusionImg2ImgPipeline}: the schedule cut by {@code
 * strength} ({@code get_timesteps}) and first latents that are each init picture's VAE latents,
 * sampled with the image's own generator and noised to the first timestep that runs ({@code
 * prepare_latents}).
 *
 * <p>One instance per batch (it holds the batch's pictures and the timestep {@link #timesteps}
 * chose); every request of the batch has the same size, steps and strength.
 */
public final class ImageToImage implements GenerationMode {
    private final DataType dtype;
    private final AutoencoderKL vae;
    private final List<ImageRequest> batch;
    private double latentTimestep = Double.NaN;

    /**
     * @param dtype the latents' dtype (the UNet's compute dtype)
     * @param vae the pipeline's VAE, whose encoder makes the init latents
     * @param batch the checked requests of the batch, each with its init picture
     */
    public ImageToImage(DataType dtype, AutoencoderKL vae, List<ImageRequest> batch) {
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i).initImage() == null || batch.get(i).strength() == null) {
                throw new IllegalArgumentException(
                        "request " + i + " of an img2img batch has no init image or strength");
            }
        }
        this.dtype = dtype;
        this.vae = vae;
        this.batch = List.copyOf(batch);
    }

    /**
     * diffusers' {@code init_timestep = min(int(num_inference_steps * strength),
     * num_inference_steps)}: how many steps of the schedule run (0 when strength is too small to
     * reach one).
     */
    public static int keptSteps(int steps, double strength) {
        return Math.min((int) (steps * strength), steps);
    }

    @Override
    public double[] timesteps(Scheduler scheduler, ImageRequest first) {
        double[] kept = getTimesteps(scheduler, first.steps(), first.strength());
        // latent_timestep = timesteps[:1]: the init latents are noised to the first kept step.
        latentTimestep = kept[0];
        return kept;
    }

    /**
     * diffusers' {@code retrieve_timesteps} then {@code get_timesteps}: sets the scheduler's
     * timesteps and begin index and returns the ones that run, the schedule cut by {@code strength}
     * (inpainting's is a copy of img2img's).
     *
     * @throws IllegalArgumentException when no timestep is left to run
     */
    // Port of diffusers pipeline_stable_diffusion_img2img.StableDiffusionImg2ImgPipeline
    // (5. set timesteps: retrieve_timesteps, then get_timesteps)
    public static double[] getTimesteps(Scheduler scheduler, int steps, double strength) {
        scheduler.setTimesteps(steps);
        double[] all = scheduler.timesteps();
        // get_timesteps: the first t_start steps are skipped; a second-order scheduler (Heun)
        // repeats its inner timesteps, so the cut is t_start * order entries in.
        int tStart = Math.max(steps - keptSteps(steps, strength), 0);
        int begin = tStart * scheduler.order();
        if (begin >= all.length) {
            throw new IllegalArgumentException(
                    "strength " + strength + " with " + steps + " steps leaves no timestep to run");
        }
        double[] kept = Arrays.copyOfRange(all, begin, all.length);
        // Schedulers that keep a step index start there instead of looking the timestep up
        // (diffusers calls set_begin_index where the scheduler has it).
        scheduler.setBeginIndex(begin);
        return kept;
    }

    // Port of diffusers pipeline_stable_diffusion_img2img.StableDiffusionImg2ImgPipeline
    // (4. preprocess image, 6. prepare_latents with a list of generators, retrieve_latents with
    // sample_mode "sample")
    @Override
    public NDArray firstLatents(NDManager run, BatchNoise noise, Shape shape, Scheduler scheduler) {
        if (Double.isNaN(latentTimestep)) {
            throw new IllegalStateException("timesteps must be prepared before the first latents");
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            // 4. Preprocess image: resized (PIL Lanczos), [-1, 1], channels first
            NDArray image = InitImageLatents.pixels(run, batch);
            // latent_dist.sample(generator[i]), drawn first on each image's generator (before the
            // noise below)
            NDArray initLatents = InitImageLatents.sampled(run, vae, image, noise, shape);
            // noise = randn_tensor(shape, generator); add_noise at the first kept timestep.
            NDArray addedNoise = noise.randn(run, shape);
            NDArray latents =
                    scheduler
                            .addNoise(initLatents, addedNoise, latentTimestep)
                            .toType(dtype, false);
            NDScope.unregister(latents);
            return latents;
        }
    }
}
