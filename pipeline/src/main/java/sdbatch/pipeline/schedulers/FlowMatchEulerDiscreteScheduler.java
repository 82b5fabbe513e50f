package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Euler's method for rectified-flow models (Stable Diffusion 3 and 3.5): port of diffusers {@code
 * scheduling_flow_match_euler_discrete.FlowMatchEulerDiscreteScheduler}. The model predicts a
 * velocity; sigmas run from 1 (pure noise) to 0, shifted towards the noisy end by {@code shift}
 * ({@code shift * s / (1 + (shift - 1) * s)}, or resolution-dependent with {@code
 * use_dynamic_shifting} and the pipeline's {@code mu}); a timestep is {@code sigma * 1000}; a step
 * is {@code sample + (sigma_next - sigma) * model_output}.
 *
 * <p>The latents start as unscaled noise ({@code init_noise_sigma} is 1, as SD3's {@code
 * prepare_latents} does not scale them) and the model input is not scaled. {@code use_beta_sigmas}
 * (scipy's beta ppf) and {@code per_token_timesteps} are not supported.
 *
 * <p>Not thread-safe; one instance per run.
 */
public final class FlowMatchEulerDiscreteScheduler extends BaseScheduler {
    /** The class name in {@code scheduler_config.json}. */
    public static final String CLASS_NAME = "FlowMatchEulerDiscreteScheduler";

    private final int numTrain;

    /** The sigma of each timestep, then the terminal one (0, or 1 with {@code invert_sigmas}). */
    private float[] sigmas;

    /** {@code self.sigma_min}, {@code self.sigma_max}: the ends of the training sigmas. */
    private final double sigmaMin;

    private final double sigmaMax;

    /** diffusers' {@code mu} for {@code use_dynamic_shifting}; NaN = not given. */
    private double mu = Double.NaN;

    // Port of diffusers scheduling_flow_match_euler_discrete.FlowMatchEulerDiscreteScheduler
    // .__init__
    public FlowMatchEulerDiscreteScheduler(SchedulerConfig config) {
        super(config, CLASS_NAME);
        SigmaSchedules.checkSigmaConversion(this.config);
        numTrain = this.config.numTrainTimesteps();
        // np.linspace(1, N, N, dtype=np.float32)[::-1] / N, in float32 (torch)
        float[] s = new float[numTrain];
        float shift = (float) this.config.shift();
        float shiftMinusOne = (float) (this.config.shift() - 1);
        for (int i = 0; i < numTrain; i++) {
            float t = numTrain - i;
            s[i] = t / numTrain;
            if (!this.config.useDynamicShifting()) {
                // when use_dynamic_shifting is True, the shift is applied on the fly from the
                // image resolution
                s[i] = shift * s[i] / (1f + shiftMinusOne * s[i]);
            }
        }
        timesteps = new double[numTrain];
        for (int i = 0; i < numTrain; i++) {
            timesteps[i] = s[i] * (float) numTrain;
        }
        sigmas = s;
        sigmaMin = s[numTrain - 1];
        sigmaMax = s[0];
    }

    /**
     * diffusers' {@code mu} argument of {@code set_timesteps}, needed before {@link #setTimesteps}
     * when the config says {@code use_dynamic_shifting} (the SD3 pipeline computes it from the
     * latents' size with {@link #calculateShift}).
     */
    public void setMu(double mu) {
        if (!Double.isFinite(mu)) {
            throw new IllegalArgumentException("mu must be a finite number, got " + mu);
        }
        this.mu = mu;
    }

    /**
     * diffusers' SD3 {@code calculate_shift}: {@code mu} grows linearly with the image's token
     * count, from {@code base_shift} at {@code base_image_seq_len} to {@code max_shift} at {@code
     * max_image_seq_len}. The SD3 pipeline's fallbacks for absent keys are 256, 4096, 0.5 and 1.16.
     */
    // Port of diffusers pipeline_stable_diffusion_3.calculate_shift
    public static double calculateShift(SchedulerConfig c, long imageSeqLen) {
        double baseShift = c.baseShift() == null ? 0.5 : c.baseShift();
        double maxShift = c.maxShift() == null ? 1.16 : c.maxShift();
        double m = (maxShift - baseShift) / (c.maxImageSeqLen() - c.baseImageSeqLen());
        double b = baseShift - m * c.baseImageSeqLen();
        return imageSeqLen * m + b;
    }

    // Port of diffusers scheduling_flow_match_euler_discrete.FlowMatchEulerDiscreteScheduler
    // .set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        if (config.useDynamicShifting() && Double.isNaN(mu)) {
            throw new IllegalArgumentException(
                    "mu must be passed when use_dynamic_shifting is set to be true");
        }
        checkSteps(numInferenceSteps, Integer.MAX_VALUE);
        this.numInferenceSteps = numInferenceSteps;

        // 1. Prepare default sigmas (numpy, float64)
        double[] t =
                TimestepSpacing.linspace(
                        sigmaMax * numTrain, sigmaMin * numTrain, numInferenceSteps);
        double[] s = new double[t.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = t[i] / numTrain;
        }

        // 2. Perform timestep shifting. Either no shifting is applied, or resolution-dependent
        // shifting of "exponential" or "linear" type is applied
        double shift = config.shift();
        for (int i = 0; i < s.length; i++) {
            s[i] =
                    config.useDynamicShifting()
                            ? timeShift(mu, 1.0, s[i])
                            : shift * s[i] / (1 + (shift - 1) * s[i]);
        }

        // 3. If required, stretch the sigmas schedule to terminate at the configured
        // shift_terminal value
        if (config.shiftTerminal() != null && config.shiftTerminal() != 0) {
            s = stretchShiftToTerminal(s, config.shiftTerminal());
        }

        // 4. If required, convert sigmas to one of karras or exponential sigma schedules (the
        // class has no sigma_min/sigma_max config: the bounds are the shifted sigmas' ends)
        double[] converted = SigmaSchedules.convertSigmas(config, s, numInferenceSteps, false);
        if (converted != null) {
            s = converted;
        }

        // 5. Convert sigmas and timesteps to float32 tensors
        int n = s.length;
        float[] sig = new float[n + 1];
        for (int i = 0; i < n; i++) {
            sig[i] = (float) s[i];
        }

        // 6. Append the terminal sigma value (inverted sigmas are Mochi's)
        if (config.invertSigmas()) {
            for (int i = 0; i < n; i++) {
                sig[i] = 1f - sig[i];
            }
            sig[n] = 1f;
        } else {
            sig[n] = 0f;
        }
        double[] ts = new double[n];
        for (int i = 0; i < n; i++) {
            ts[i] = sig[i] * (float) numTrain;
        }
        timesteps = ts;
        sigmas = sig;
        clearHistory();
        resetStepIndex();
    }

    // Port of diffusers scheduling_flow_match_euler_discrete.FlowMatchEulerDiscreteScheduler
    // .time_shift (_time_shift_exponential, _time_shift_linear)
    private double timeShift(double mu, double sigma, double t) {
        if (config.timeShiftType().equals("linear")) {
            return mu / (mu + Math.pow(1 / t - 1, sigma));
        }
        return Math.exp(mu) / (Math.exp(mu) + Math.pow(1 / t - 1, sigma));
    }

    // Port of diffusers scheduling_flow_match_euler_discrete.FlowMatchEulerDiscreteScheduler
    // .stretch_shift_to_terminal
    private static double[] stretchShiftToTerminal(double[] t, double shiftTerminal) {
        double[] oneMinusZ = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            oneMinusZ[i] = 1 - t[i];
        }
        double scaleFactor = oneMinusZ[t.length - 1] / (1 - shiftTerminal);
        double[] out = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            out[i] = 1 - (oneMinusZ[i] / scaleFactor);
        }
        return out;
    }

    /** The sigmas of the schedule, the terminal one last (a copy). */
    public float[] sigmas() {
        return sigmas.clone();
    }

    @Override
    public boolean drawsNoise() {
        return config.stochasticSampling();
    }

    // Port of diffusers scheduling_flow_match_euler_discrete.FlowMatchEulerDiscreteScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        initStepIndex(t);
        // Upcast to avoid precision issues when computing prev_sample
        NDArray x = sample.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        float sigma = sigmas[stepIndex];
        float sigmaNext = sigmas[stepIndex + 1];
        float dt = sigmaNext - sigma;
        NDArray prevSample;
        if (config.stochasticSampling()) {
            NDArray x0 = x.sub(modelOutput.mul(sigma));
            NDArray n = noise.randn(sample.getManager(), sample.getShape());
            prevSample = x0.mul(1f - sigmaNext).add(n.mul(sigmaNext));
        } else {
            prevSample = x.add(modelOutput.mul(dt));
        }
        // upon completion increase step index by one
        stepIndex += 1;
        // Cast sample back to model compatible dtype
        return new SchedulerOutput(prevSample.toType(modelOutput.getDataType(), false), null);
    }

    /** Flow matching's forward process: {@code sigma * noise + (1 - sigma) * sample}. */
    // Port of diffusers scheduling_flow_match_euler_discrete.FlowMatchEulerDiscreteScheduler
    // .scale_noise
    @Override
    public NDArray addNoise(NDArray originalSamples, NDArray noise, double t) {
        checkSameShape(originalSamples, noise);
        float sigma = sigmas[addNoiseIndex(t)];
        return InnerScope.keep(() -> noise.mul(sigma).add(originalSamples.mul(1f - sigma)));
    }
}
