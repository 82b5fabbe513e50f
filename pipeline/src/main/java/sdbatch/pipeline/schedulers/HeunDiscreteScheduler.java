package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Heun's method in sigma space (Algorithm 1 of Karras et al.,
 * https://huggingface.co/papers/2206.00364): port of diffusers {@code
 * scheduling_heun_discrete.HeunDiscreteScheduler}. Order 2: every inner timestep appears twice in
 * {@link #timesteps()}, once for the Euler predictor and once for the trapezoidal correction
 * ({@code state_in_first_order}).
 *
 * <p>Keeps the predictor's derivative and sample between the two evaluations: not thread-safe, one
 * per run.
 */
public final class HeunDiscreteScheduler extends SigmaSpaceScheduler {
    private NDArray prevDerivative;
    private float dt = Float.NaN; // NaN = diffusers' dt is None
    private NDArray heldSample;

    // Port of diffusers scheduling_heun_discrete.HeunDiscreteScheduler.__init__
    public HeunDiscreteScheduler(SchedulerConfig config) {
        super(config, "HeunDiscreteScheduler", false);
        setTimesteps(this.config.numTrainTimesteps());
        numInferenceSteps = 0;
    }

    @Override
    public int order() {
        return 2;
    }

    /** Whether the next step is the Euler predictor (diffusers' {@code state_in_first_order}). */
    public boolean stateInFirstOrder() {
        return Float.isNaN(dt);
    }

    // Port of diffusers scheduling_heun_discrete.HeunDiscreteScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, Integer.MAX_VALUE);
        this.numInferenceSteps = numInferenceSteps;
        Schedule schedule = interpolatedSchedule(numInferenceSteps, "linear", false);
        double[] t = schedule.timesteps();
        float[] once = SigmaSchedules.appendFloat32(schedule.sigmas(), 0.0);
        // sigmas: [s0, s1, s1, s2, s2, ..., 0]; timesteps: [t0, t1, t1, t2, t2, ...]
        int n = once.length;
        sigmas = new float[1 + 2 * (n - 2) + 1];
        sigmas[0] = once[0];
        for (int i = 1; i < n - 1; i++) {
            sigmas[2 * i - 1] = once[i];
            sigmas[2 * i] = once[i];
        }
        sigmas[sigmas.length - 1] = once[n - 1];
        timesteps = new double[1 + 2 * (t.length - 1)];
        timesteps[0] = (float) t[0];
        for (int i = 1; i < t.length; i++) {
            timesteps[2 * i - 1] = (float) t[i];
            timesteps[2 * i] = (float) t[i];
        }
        resetState();
        clearHistory();
        resetStepIndex();
    }

    private void resetState() {
        drop(prevDerivative);
        prevDerivative = null;
        drop(heldSample);
        heldSample = null;
        dt = Float.NaN;
    }

    // Port of diffusers scheduling_heun_discrete.HeunDiscreteScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        initStepIndex(t);
        boolean first = stateInFirstOrder();
        float sigma;
        float sigmaNext;
        if (first) {
            sigma = sigmas[stepIndex];
            sigmaNext = sigmas[stepIndex + 1];
        } else {
            // 2nd order / Heun's method
            sigma = sigmas[stepIndex - 1];
            sigmaNext = sigmas[stepIndex];
        }

        // currently only gamma=0 is supported. This usually works best anyways.
        float sigmaHat = sigma; // sigma * (gamma + 1)

        // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
        float sigmaInput = first ? sigmaHat : sigmaNext;
        NDArray predOriginalSample = predictOriginalSample(modelOutput, sample, sigmaInput);
        if (config.clipSample()) {
            float r = (float) config.clipSampleRange();
            predOriginalSample = predOriginalSample.clip(-r, r);
        }

        NDArray prevSample;
        if (first) {
            // 2. Convert to an ODE derivative for 1st order
            NDArray derivative = toD(sample, sigmaHat, predOriginalSample);
            // 3. delta timestep
            dt = sigmaNext - sigmaHat;
            prevSample = sample.add(derivative.mul(dt));
            // store for 2nd order step
            prevDerivative = keep(derivative, sample);
            heldSample = keepCopy(sample);
        } else {
            // 2. 2nd order / Heun's method
            NDArray derivative = toD(sample, sigmaNext, predOriginalSample);
            derivative = prevDerivative.add(derivative).div(2f);
            // 3. take prev timestep & sample
            prevSample = heldSample.add(derivative.mul(dt));
            // free dt and derivative; note, this puts the scheduler in "first order mode"
            resetState();
        }

        stepIndex += 1;
        return new SchedulerOutput(prevSample, predOriginalSample);
    }
}
