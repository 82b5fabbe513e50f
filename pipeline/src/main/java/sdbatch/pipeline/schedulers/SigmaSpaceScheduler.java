package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.models.layers.InnerScope;

/**
 * What the k-diffusion-style schedulers (Euler, Euler a, LMS, Heun) do the same way: they step in
 * sigma space, so the latents start at {@code init_noise_sigma} times the noise, the model input is
 * scaled by {@code 1 / (sigma**2 + 1) ** 0.5}, and x0 comes from k-diffusion's denoiser; and their
 * {@code set_timesteps} interpolates the training sigmas at the spaced timesteps. diffusers writes
 * each of these again in every one of the four files (or marks it {@code # Copied from} Euler);
 * here it is said once. Their steps differ and stay in their files.
 */
abstract class SigmaSpaceScheduler extends BaseScheduler {
    protected final float[] alphasCumprod;

    /** {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5} of every training step, ascending. */
    protected final float[] trainingSigmas;

    /** The sigma of each timestep, then the final sigma the last step goes to. */
    protected float[] sigmas;

    /**
     * @param rescalesBetasZeroSnr whether the class's diffusers {@code __init__} takes {@code
     *     rescale_betas_zero_snr} (Euler, Euler a) or ignores it (LMS, Heun)
     */
    SigmaSpaceScheduler(SchedulerConfig config, String className, boolean rescalesBetasZeroSnr) {
        super(config, className);
        alphasCumprod =
                rescalesBetasZeroSnr
                        ? NoiseSchedule.alphasCumprodForSigmas(this.config, className)
                        : NoiseSchedule.alphasCumprod(NoiseSchedule.betas(this.config, className));
        trainingSigmas = NoiseSchedule.sigmasOf(alphasCumprod);
        // diffusers' Euler __init__ state: sigmas of all training steps, flipped, then 0 (LMS and
        // Heun replace it at once by their set_timesteps(num_train_timesteps))
        sigmas = SigmaSchedules.appendFloat32(TimestepSpacing.flip(trainingSigmas), 0.0);
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.init_noise_sigma
    @Override
    public float initNoiseSigma() {
        return SigmaSchedules.initNoiseSigma(config, sigmas);
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.scale_model_input
    @Override
    public NDArray scaleModelInput(NDArray sample, double t) {
        float sigma = stepSigma(t);
        return sample.div(ScheduleMath.sqrt(sigma * sigma + 1));
    }

    /**
     * {@code self.sigmas[self.step_index]}, the step index found from {@code t} first if not set
     * yet ({@code _init_step_index}), as {@code scale_model_input} and each step begin.
     */
    protected float stepSigma(double t) {
        initStepIndex(t);
        return sigmas[stepIndex];
    }

    /**
     * The ODE derivative {@code (sample - pred_original_sample) / sigma} ("2. Convert to an ODE
     * derivative" of each step): k-diffusion's {@code to_d}.
     */
    protected static NDArray toD(NDArray sample, float sigma, NDArray predOriginalSample) {
        return sample.sub(predOriginalSample).div(sigma);
    }

    /**
     * x0 predicted from the model output at {@code sigma} ("1. compute predicted original sample
     * (x_0) from sigma-scaled predicted noise" of each step): for v_prediction the denoiser {@code
     * model_output * c_out + input * c_skip}.
     */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.step (step 1)
    protected NDArray predictOriginalSample(NDArray modelOutput, NDArray sample, float sigma) {
        switch (config.predictionType()) {
            case "epsilon":
                return sample.sub(modelOutput.mul(sigma));
            case "v_prediction":
                return modelOutput
                        .mul(-sigma / ScheduleMath.sqrt(sigma * sigma + 1))
                        .add(sample.div(sigma * sigma + 1));
            case "sample":
                return modelOutput;
            default:
                throw new IllegalArgumentException(
                        "prediction_type "
                                + config.predictionType()
                                + " is not supported by "
                                + getClass().getSimpleName());
        }
    }

    /** Timesteps and sigmas of a schedule, before the final sigma is appended. */
    record Schedule(double[] timesteps, double[] sigmas) {}

    /**
     * The schedule of {@code set_timesteps}: timesteps spaced by {@code timestep_spacing} (as
     * float32); sigmas interpolated at them from the training sigmas ({@code linear}: {@code
     * np.interp}; {@code log_linear}, an Euler option: evenly in log sigma); then Karras or
     * exponential sigmas in their place when configured, with the timesteps found back by {@code
     * _sigma_to_t}.
     *
     * @param honourBounds whether the class's {@code __init__} has {@code sigma_min}/{@code
     *     sigma_max} (Euler)
     */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.set_timesteps (written
    // again in LMSDiscreteScheduler and HeunDiscreteScheduler without log_linear and the bounds)
    protected Schedule interpolatedSchedule(
            int numInferenceSteps, String interpolationType, boolean honourBounds) {
        double[] t =
                TimestepSpacing.toFloat32(
                        TimestepSpacing.spacedTimesteps(config, numInferenceSteps, false));
        float[] logSigmas = NoiseSchedule.log(trainingSigmas);
        double[] s;
        switch (interpolationType) {
            case "linear":
                s = SigmaSchedules.interp(t, trainingSigmas);
                break;
            case "log_linear":
                {
                    // torch.linspace(log(sigmas[-1]), log(sigmas[0]), n + 1).exp() in float32
                    float[] l =
                            NoiseSchedule.torchLinspace(
                                    logSigmas[logSigmas.length - 1],
                                    logSigmas[0],
                                    numInferenceSteps + 1);
                    s = new double[l.length];
                    for (int i = 0; i < l.length; i++) {
                        s[i] = (float) Math.exp(l[i]);
                    }
                    break;
                }
            default:
                throw new IllegalArgumentException(
                        "interpolation_type " + interpolationType + " is not supported");
        }
        double[] converted =
                SigmaSchedules.convertSigmas(config, s, numInferenceSteps, honourBounds);
        if (converted != null) {
            return new Schedule(SigmaSchedules.sigmasToT(converted, logSigmas), converted);
        }
        return new Schedule(t, s);
    }

    /** {@code original + noise * sigma} at the sigma of {@code t}'s step. */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.add_noise (copied into
    // Euler a, LMS and Heun)
    @Override
    public NDArray addNoise(NDArray originalSamples, NDArray noise, double t) {
        checkSameShape(originalSamples, noise);
        float sigma = sigmas[addNoiseIndex(t)];
        return InnerScope.keep(() -> originalSamples.add(noise.mul(sigma)));
    }
}
