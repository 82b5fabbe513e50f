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
public final class EulerAncestralDiscreteScheduler extends SigmaSpaceScheduler {

    // Port of diffusers
    // scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler.__init__
    public EulerAncestralDiscreteScheduler(SchedulerConfig config) {
        super(refuseSamplePrediction(config), "EulerAncestralDiscreteScheduler", true);
    }

    /**
     * Euler a has no step for {@code prediction_type} sample (diffusers raises in {@code step}); it
     * is refused at construction, before the betas are computed.
     */
    private static SchedulerConfig refuseSamplePrediction(SchedulerConfig config) {
        if (config != null
                && config.forClass("EulerAncestralDiscreteScheduler")
                        .predictionType()
                        .equals("sample")) {
            throw new IllegalArgumentException(
                    "prediction_type sample is not implemented for EulerAncestralDiscreteScheduler");
        }
        return config;
    }

    @Override
    public boolean drawsNoise() {
        return true;
    }

    // Port of diffusers
    // scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, Integer.MAX_VALUE);
        this.numInferenceSteps = numInferenceSteps;
        // linear interpolation only: diffusers' Euler a has no Karras or exponential sigmas
        double[] t =
                TimestepSpacing.toFloat32(
                        TimestepSpacing.spacedTimesteps(config, numInferenceSteps, false));
        sigmas = SigmaSchedules.appendFloat32(SigmaSchedules.interp(t, trainingSigmas), 0.0);
        timesteps = t;
        resetStepIndex();
    }

    // Port of diffusers scheduling_euler_ancestral_discrete.EulerAncestralDiscreteScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        float sigma = stepSigma(t);

        // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
        NDArray predOriginalSample = predictOriginalSample(modelOutput, sample, sigma);

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
        NDArray derivative = toD(sample, sigma, predOriginalSample);
        float dt = sigmaDown - sigma;
        NDArray prevSample = sample.add(derivative.mul(dt));

        NDArray n = noise.randn(sample.getManager(), modelOutput.getShape());
        prevSample = prevSample.add(n.mul(sigmaUp));

        // upon completion increase step index by one
        stepIndex += 1;
        return new SchedulerOutput(prevSample, predOriginalSample);
    }
}
