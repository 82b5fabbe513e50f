package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Denoising diffusion implicit models (https://huggingface.co/papers/2010.02502): port of diffusers
 * {@code scheduling_ddim.DDIMScheduler}. {@code eta} (diffusers' {@code step(eta=...)}, the
 * pipeline's {@code eta}) is fixed per instance: 0 is deterministic, {@code eta > 0} adds {@code
 * eta * sigma_t} of fresh noise per step and then {@link #drawsNoise()}.
 *
 * <p>Not thread-safe; one instance per run.
 */
public final class DDIMScheduler extends BaseScheduler {
    private final double eta;
    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;

    /** A deterministic DDIM ({@code eta = 0}). */
    public DDIMScheduler(SchedulerConfig config) {
        this(config, 0.0);
    }

    /**
     * @param eta the weight of noise added per step, in [0, 1] (0 = DDIM, 1 = DDPM-like)
     */
    // Port of diffusers scheduling_ddim.DDIMScheduler.__init__
    public DDIMScheduler(SchedulerConfig config, double eta) {
        super(config, "DDIMScheduler");
        if (!(eta >= 0) || Double.isInfinite(eta)) {
            throw new IllegalArgumentException("eta " + eta + " must be a finite number >= 0");
        }
        this.eta = eta;
        SchedulerConfig c = this.config;
        float[] betas = NoiseSchedule.betas(c, "DDIMScheduler");
        // Rescale for zero SNR
        if (c.rescaleBetasZeroSnr()) {
            betas = NoiseSchedule.rescaleZeroTerminalSnr(betas);
        }
        alphasCumprod = NoiseSchedule.alphasCumprod(betas);
        // At every step in ddim, we are looking into the previous alphas_cumprod. For the final
        // step, there is no previous alphas_cumprod because we are already at 0.
        // `set_alpha_to_one` decides whether we set this parameter simply to one or whether we use
        // the final alpha of the "non-previous" one.
        finalAlphaCumprod = c.setAlphaToOne() ? 1f : alphasCumprod[0];
    }

    /** The {@code eta} of every step. */
    public double eta() {
        return eta;
    }

    @Override
    public boolean drawsNoise() {
        return eta > 0;
    }

    // Port of diffusers scheduling_ddim.DDIMScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, config.numTrainTimesteps());
        this.numInferenceSteps = numInferenceSteps;
        double[] t = TimestepSpacing.spacedTimesteps(config, numInferenceSteps, true);
        if (config.timestepSpacing().equals("leading")) {
            // casting to int: (arange * ratio).round().astype(int64) + steps_offset
            for (int i = 0; i < t.length; i++) {
                t[i] = Math.rint(t[i]);
            }
        }
        timesteps = t;
    }

    private float alphaProd(int timestep) {
        return timestep >= 0 ? alphasCumprod[timestep] : finalAlphaCumprod;
    }

    // Port of diffusers scheduling_ddim.DDIMScheduler._get_variance
    float variance(int timestep, int prevTimestep) {
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = alphaProd(prevTimestep);
        float betaProdT = 1 - alphaProdT;
        float betaProdTPrev = 1 - alphaProdTPrev;
        return (betaProdTPrev / betaProdT) * (1 - alphaProdT / alphaProdTPrev);
    }

    // Port of diffusers scheduling_ddim.DDIMScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        int timestep = trainingTimestep(t, alphasCumprod.length, "DDIM");
        // 1. get previous step value (=t-1)
        int prevTimestep = timestep - config.numTrainTimesteps() / numInferenceSteps;

        // 2. compute alphas, betas
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = alphaProd(prevTimestep);
        float betaProdT = 1 - alphaProdT;

        // 3. compute predicted original sample from predicted noise also called
        // "predicted x_0" of formula (12) from https://huggingface.co/papers/2010.02502
        NDArray predOriginalSample =
                ScheduleMath.predictOriginalSample(config, modelOutput, sample, alphaProdT);
        // and the noise: DDIM's step moves along it ("direction pointing to x_t")
        NDArray predEpsilon;
        switch (config.predictionType()) {
            case "epsilon":
                predEpsilon = modelOutput;
                break;
            case "sample":
                predEpsilon =
                        sample.sub(predOriginalSample.mul(ScheduleMath.sqrt(alphaProdT)))
                                .div(ScheduleMath.sqrt(betaProdT));
                break;
            default: // v_prediction: predictOriginalSample refused any other type
                predEpsilon =
                        modelOutput
                                .mul(ScheduleMath.sqrt(alphaProdT))
                                .add(sample.mul(ScheduleMath.sqrt(betaProdT)));
                break;
        }

        // 4. Clip or threshold "predicted x_0"
        predOriginalSample = ScheduleMath.clipOrThreshold(config, predOriginalSample);

        // 5. compute variance: "sigma_t(η)" -> see formula (16)
        // σ_t = sqrt((1 − α_t−1)/(1 − α_t)) * sqrt(1 − α_t/α_t−1)
        float variance = variance(timestep, prevTimestep);
        float stdDevT = (float) eta * ScheduleMath.sqrt(variance);

        // 6. compute "direction pointing to x_t" of formula (12)
        NDArray predSampleDirection =
                predEpsilon.mul(ScheduleMath.sqrt(1 - alphaProdTPrev - stdDevT * stdDevT));

        // 7. compute x_t without "random noise" of formula (12)
        NDArray prevSample =
                predOriginalSample.mul(ScheduleMath.sqrt(alphaProdTPrev)).add(predSampleDirection);

        if (eta > 0) {
            NDArray varianceNoise = noise.randn(sample.getManager(), modelOutput.getShape());
            prevSample = prevSample.add(varianceNoise.mul(stdDevT));
        }
        return new SchedulerOutput(prevSample, predOriginalSample);
    }

    // Port of diffusers scheduling_ddim.DDIMScheduler.add_noise
    @Override
    public NDArray addNoise(NDArray originalSamples, NDArray noise, double t) {
        return addNoiseAlphaSpace(alphasCumprod, originalSamples, noise, t);
    }
}
