package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Denoising diffusion probabilistic models (https://huggingface.co/papers/2006.11239): port of
 * diffusers {@code scheduling_ddpm.DDPMScheduler} for the fixed variance types ({@code
 * fixed_small}, {@code fixed_small_log}, {@code fixed_large}, {@code fixed_large_log}); the learned
 * ones need a 6-channel UNet and are refused. Draws noise at every step with {@code t > 0}.
 *
 * <p>Not thread-safe; one instance per run.
 */
public final class DDPMScheduler extends BaseScheduler {
    private final float[] alphasCumprod;
    private final String varianceType;

    // Port of diffusers scheduling_ddpm.DDPMScheduler.__init__
    public DDPMScheduler(SchedulerConfig config) {
        super(config, "DDPMScheduler");
        SchedulerConfig c = this.config;
        float[] betas;
        if (c.trainedBetas() == null && c.betaSchedule().equals("sigmoid")) {
            // GeoDiff sigmoid schedule
            float[] x = NoiseSchedule.torchLinspace(-6, 6, c.numTrainTimesteps());
            betas = new float[x.length];
            float range = (float) c.betaEnd() - (float) c.betaStart();
            for (int i = 0; i < x.length; i++) {
                float sig = (float) (1 / (1 + Math.exp(-x[i])));
                betas[i] = sig * range + (float) c.betaStart();
            }
        } else {
            betas = NoiseSchedule.betas(c, "DDPMScheduler");
        }
        if (c.rescaleBetasZeroSnr()) {
            betas = NoiseSchedule.rescaleZeroTerminalSnr(betas);
        }
        alphasCumprod = NoiseSchedule.alphasCumprod(betas);
        varianceType = c.varianceType() == null ? "fixed_small" : c.varianceType();
        if (varianceType.equals("learned") || varianceType.equals("learned_range")) {
            throw new IllegalArgumentException(
                    "variance_type " + varianceType + " (6-channel UNet output) is not supported");
        }
    }

    @Override
    public boolean drawsNoise() {
        return true;
    }

    // Port of diffusers scheduling_ddpm.DDPMScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, config.numTrainTimesteps());
        this.numInferenceSteps = numInferenceSteps;
        timesteps =
                TimestepSpacing.toInt64(
                        TimestepSpacing.spacedTimesteps(config, numInferenceSteps, true));
    }

    // Port of diffusers scheduling_ddpm.DDPMScheduler.previous_timestep
    private int previousTimestep(int timestep) {
        int index = -1;
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] == timestep) {
                index = i;
                break;
            }
        }
        if (index < 0) {
            throw new IllegalArgumentException(
                    "timestep "
                            + timestep
                            + " is not one of "
                            + java.util.Arrays.toString(timesteps));
        }
        return index == timesteps.length - 1 ? -1 : (int) timesteps[index + 1];
    }

    // Port of diffusers scheduling_ddpm.DDPMScheduler._get_variance
    float variance(int t) {
        int prevT = previousTimestep(t);
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : 1f;
        float currentBetaT = 1 - alphaProdT / alphaProdTPrev;
        // For t > 0, compute predicted variance βt (see formula (6) and (7) from
        // https://huggingface.co/papers/2006.11239) and sample from it to get previous sample
        // x_{t-1} ~ N(pred_prev_sample, variance) == add variance to pred_sample
        float variance = (1 - alphaProdTPrev) / (1 - alphaProdT) * currentBetaT;
        // we always take the log of variance, so clamp it to ensure it's not 0
        variance = Math.max(variance, 1e-20f);
        switch (varianceType) {
            case "fixed_small":
                return variance;
            case "fixed_small_log":
                // for rl-diffuser https://huggingface.co/papers/2205.09991
                return (float) Math.exp(0.5f * (float) Math.log(variance));
            case "fixed_large":
                return currentBetaT;
            case "fixed_large_log":
                // Glide max_log
                return (float) Math.log(currentBetaT);
            default:
                throw new AssertionError(varianceType);
        }
    }

    // Port of diffusers scheduling_ddpm.DDPMScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double tt, NDArray sample, NoiseSource noise) {
        int t = trainingTimestep(tt, alphasCumprod.length, "DDPM");
        int prevT = previousTimestep(t);

        // 1. compute alphas, betas
        float alphaProdT = alphasCumprod[t];
        float alphaProdTPrev = prevT >= 0 ? alphasCumprod[prevT] : 1f;
        float betaProdT = 1 - alphaProdT;
        float betaProdTPrev = 1 - alphaProdTPrev;
        float currentAlphaT = alphaProdT / alphaProdTPrev;
        float currentBetaT = 1 - currentAlphaT;

        // 2. compute predicted original sample from predicted noise also called
        // "predicted x_0" of formula (15) from https://huggingface.co/papers/2006.11239
        NDArray predOriginalSample =
                ScheduleMath.predictOriginalSample(config, modelOutput, sample, alphaProdT);

        // 3. Clip or threshold "predicted x_0"
        predOriginalSample = ScheduleMath.clipOrThreshold(config, predOriginalSample);

        // 4. Compute coefficients for pred_original_sample x_0 and current sample x_t
        // See formula (7) from https://huggingface.co/papers/2006.11239
        float predOriginalSampleCoeff =
                (ScheduleMath.sqrt(alphaProdTPrev) * currentBetaT) / betaProdT;
        float currentSampleCoeff = ScheduleMath.sqrt(currentAlphaT) * betaProdTPrev / betaProdT;

        // 5. Compute predicted previous sample µ_t
        // See formula (7) from https://huggingface.co/papers/2006.11239
        NDArray predPrevSample =
                predOriginalSample.mul(predOriginalSampleCoeff).add(sample.mul(currentSampleCoeff));

        // 6. Add noise
        if (t > 0) {
            NDArray varianceNoise = noise.randn(sample.getManager(), modelOutput.getShape());
            float v = variance(t);
            float scale = varianceType.equals("fixed_small_log") ? v : ScheduleMath.sqrt(v);
            predPrevSample = predPrevSample.add(varianceNoise.mul(scale));
        }
        return new SchedulerOutput(predPrevSample, predOriginalSample);
    }

    // Port of diffusers scheduling_ddpm.DDPMScheduler.add_noise
    @Override
    public NDArray addNoise(NDArray originalSamples, NDArray noise, double t) {
        return addNoiseAlphaSpace(alphasCumprod, originalSamples, noise, t);
    }
}
