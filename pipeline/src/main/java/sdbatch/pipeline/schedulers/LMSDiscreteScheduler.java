package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Linear multistep in sigma space (k-diffusion's {@code sample_lms}, order 4): port of diffusers
 * {@code scheduling_lms_discrete.LMSDiscreteScheduler}.
 *
 * <p>Keeps the last derivatives between steps: not thread-safe, one per run.
 */
public final class LMSDiscreteScheduler extends SigmaSpaceScheduler {
    private static final int ORDER = 4;

    private final List<NDArray> derivatives = new ArrayList<>();

    // Port of diffusers scheduling_lms_discrete.LMSDiscreteScheduler.__init__
    public LMSDiscreteScheduler(SchedulerConfig config) {
        super(config, "LMSDiscreteScheduler", false);
        setTimesteps(this.config.numTrainTimesteps());
        numInferenceSteps = 0;
    }

    // Port of diffusers scheduling_lms_discrete.LMSDiscreteScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, Integer.MAX_VALUE);
        this.numInferenceSteps = numInferenceSteps;
        Schedule schedule = interpolatedSchedule(numInferenceSteps, "linear", false);
        sigmas = SigmaSchedules.appendFloat32(schedule.sigmas(), 0.0);
        timesteps = TimestepSpacing.toFloat32(schedule.timesteps());
        resetStepIndex();
        for (NDArray d : derivatives) {
            drop(d);
        }
        derivatives.clear();
        clearHistory();
    }

    // Port of diffusers scheduling_lms_discrete.LMSDiscreteScheduler.get_lms_coefficient
    double lmsCoefficient(int order, int t, int currentOrder) {
        // Compute the linear multistep coefficient: the integral over [sigma_t, sigma_t+1] of the
        // Lagrange basis polynomial of degree order-1 (diffusers uses scipy quad, which is exact
        // for it; 3-point Gauss-Legendre is exact up to degree 5).
        double a = sigmas[t];
        double b = sigmas[t + 1];
        double[] nodes = {-Math.sqrt(0.6), 0, Math.sqrt(0.6)};
        double[] weights = {5.0 / 9, 8.0 / 9, 5.0 / 9};
        double sum = 0;
        for (int q = 0; q < 3; q++) {
            double tau = (b - a) / 2 * nodes[q] + (a + b) / 2;
            double prod = 1.0;
            for (int k = 0; k < order; k++) {
                if (currentOrder == k) {
                    continue;
                }
                prod *= (tau - sigmas[t - k]) / ((double) sigmas[t - currentOrder] - sigmas[t - k]);
            }
            sum += weights[q] * prod;
        }
        return sum * (b - a) / 2;
    }

    // Port of diffusers scheduling_lms_discrete.LMSDiscreteScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        float sigma = stepSigma(t);

        // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
        NDArray predOriginalSample = predictOriginalSample(modelOutput, sample, sigma);

        // 2. Convert to an ODE derivative
        NDArray derivative = toD(sample, sigma, predOriginalSample);
        derivatives.add(keep(derivative, sample));
        if (derivatives.size() > ORDER) {
            drop(derivatives.remove(0));
        }

        // 3. Compute linear multistep coefficients
        int order = Math.min(stepIndex + 1, ORDER);

        // 4. Compute previous sample based on the derivatives path
        NDArray acc = null;
        for (int cur = 0; cur < order; cur++) {
            float coeff = (float) lmsCoefficient(order, stepIndex, cur);
            NDArray d = derivatives.get(derivatives.size() - 1 - cur);
            NDArray term = d.mul(coeff);
            acc = acc == null ? term : acc.add(term);
        }
        NDArray prevSample = sample.add(acc);

        // upon completion increase step index by one
        stepIndex += 1;
        return new SchedulerOutput(prevSample, predOriginalSample);
    }
}
