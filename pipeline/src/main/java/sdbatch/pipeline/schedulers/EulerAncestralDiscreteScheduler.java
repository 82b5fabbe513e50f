package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Ancestral sampling with Euler steps (k-diffusion's {@code sample_euler_ancestral}): port of
 * diffusers {@code scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler}. Draws
 * fresh noise at every step ({@link #drawsNoise()}).
 *
 * <p>Not thread-safe; one instance per run.
 */
public final class EulerAncestralDiscreteScheduler extends BaseScheduler {
    private final float[] alphasCumprod;
    private float[] sigmas;

    // Port of diffusers
    // scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler.__init__
    public EulerAncestralDiscreteScheduler(SchedulerConfig config) {
        super(config, "EulerAncestralDiscreteScheduler");
        SchedulerConfig c = this.config;
        if (c.predictionType().equals("sample")) {
            throw new IllegalArgumentException(
                    "prediction_type sample is not implemented for EulerAncestralDiscreteScheduler");
        }
        float[] betas = ScheduleMath.betas(c, "EulerAncestralDiscreteScheduler");
        if (c.rescaleBetasZeroSnr()) {
            betas = ScheduleMath.rescaleZeroTerminalSnr(betas);
        }
        alphasCumprod = ScheduleMath.alphasCumprod(betas);
        if (c.rescaleBetasZeroSnr()) {
            // Close to 0 without being 0 so first sigma is not inf
            alphasCumprod[alphasCumprod.length - 1] = (float) Math.pow(2, -24);
        }
        float[] full = ScheduleMath.sigmasOf(alphasCumprod);
        sigmas = new float[full.length + 1];
        for (int i = 0; i < full.length; i++) {
            sigmas[i] = full[full.length - 1 - i];
        }
    }

    @Override
    public float initNoiseSigma() {
        return ScheduleMath.initNoiseSigma(config, sigmas);
    }

    @Override
    public boolean drawsNoise() {
        return true;
    }

    // Port of diffusers
    // scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler.scale_model_input
    @Override
    public NDArray scaleModelInput(NDArray sample, double t) {
        if (stepIndex < 0) {
            stepIndex = indexOf(t);
        }
        float sigma = sigmas[stepIndex];
        return sample.div(ScheduleMath.sqrt(sigma * sigma + 1));
    }

    // Port of diffusers
    // scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, Integer.MAX_VALUE);
        this.numInferenceSteps = numInferenceSteps;
        double[] t =
                ScheduleMath.toFloat32(
                        ScheduleMath.spacedTimesteps(config, numInferenceSteps, false));
        double[] s = ScheduleMath.interp(t, ScheduleMath.sigmasOf(alphasCumprod));
        sigmas = ScheduleMath.appendFloat32(s, 0.0);
        timesteps = t;
        stepIndex = -1;
    }

    // Port of diffusers scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        if (stepIndex < 0) {
            stepIndex = indexOf(t);
        }
        float sigma = sigmas[stepIndex];

        // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
        NDArray predOriginalSample;
        if (config.predictionType().equals("epsilon")) {
            predOriginalSample = sample.sub(modelOutput.mul(sigma));
        } else {
            // v_prediction: * c_out + input * c_skip
            predOriginalSample =
                    modelOutput
                            .mul(-sigma / ScheduleMath.sqrt(sigma * sigma + 1))
                            .add(sample.div(sigma * sigma + 1));
        }

        float sigmaFrom = sigmas[stepIndex];
        float sigmaTo = sigmas[stepIndex + 1];
        float sigmaUp =
                ScheduleMath.sqrt(
                        sigmaTo
                                * sigmaTo
                                * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo)
                                / (sigmaFrom * sigmaFrom));
        float sigmaDown = ScheduleMath.sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);

        // 2. Convert to an ODE derivative
        NDArray derivative = sample.sub(predOriginalSample).div(sigma);
        float dt = sigmaDown - sigma;
        NDArray prevSample = sample.add(derivative.mul(dt));

        NDArray n = noise.randn(sample.getManager(), modelOutput.getShape());
        prevSample = prevSample.add(n.mul(sigmaUp));

        // upon completion increase step index by one
        stepIndex += 1;
        return new SchedulerOutput(prevSample, predOriginalSample);
    }
}
