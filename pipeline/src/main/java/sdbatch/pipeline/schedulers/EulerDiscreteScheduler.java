package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Euler's method in sigma space (Algorithm 2 of Karras et al.,
 * https://huggingface.co/papers/2206.00364, with {@code s_churn = 0}): port of diffusers {@code
 * scheduling_euler_discrete.EulerDiscreteScheduler}. Deterministic: with diffusers' default {@code
 * s_churn = 0} its step draws no noise.
 *
 * <p>Not thread-safe; one instance per run.
 */
public final class EulerDiscreteScheduler extends SigmaSpaceScheduler {

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.__init__
    public EulerDiscreteScheduler(SchedulerConfig config) {
        super(config, "EulerDiscreteScheduler", true);
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, Integer.MAX_VALUE);
        this.numInferenceSteps = numInferenceSteps;
        Schedule schedule =
                interpolatedSchedule(numInferenceSteps, config.interpolationType(), true);
        double[] t = schedule.timesteps();
        sigmas =
                SigmaSchedules.appendFloat32(
                        schedule.sigmas(), SigmaSchedules.finalSigma(config, alphasCumprod));
        if (config.timestepType().equals("continuous")
                && config.predictionType().equals("v_prediction")) {
            t = new double[sigmas.length - 1];
            for (int i = 0; i < t.length; i++) {
                t[i] = 0.25f * (float) Math.log(sigmas[i]);
            }
        }
        timesteps = TimestepSpacing.toFloat32(t);
        resetStepIndex();
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        float sigma = stepSigma(t);
        // s_churn = 0: gamma = 0 and sigma_hat == sigma, no noise is added
        float sigmaHat = sigma;

        // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
        NDArray predOriginalSample = predictOriginalSample(modelOutput, sample, sigmaHat);

        // 2. Convert to an ODE derivative
        NDArray derivative = toD(sample, sigmaHat, predOriginalSample);
        float dt = sigmas[stepIndex + 1] - sigmaHat;
        NDArray prevSample = sample.add(derivative.mul(dt));

        // upon completion increase step index by one
        stepIndex += 1;
        return new SchedulerOutput(prevSample, predOriginalSample);
    }
}
