package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.models.layers.InnerScope;

/**
 * What the multistep solvers (DPM-Solver++, UniPC) keep alike: the training noise schedule (with
 * the sigma conversions checked as diffusers' {@code __init__} checks them), the window of the last
 * {@code solver_order} model outputs with its warm-up count {@code lower_order_nums}, and the end
 * of {@code set_timesteps} that casts the timesteps to int64 and empties the window. diffusers
 * writes these again in each of the two files; here they are said once. Their timestep spacings
 * differ in the last timestep, their Karras rounding and final sigma, and their updates: those stay
 * in their files.
 */
abstract class MultistepSolverScheduler extends BaseScheduler {
    protected final float[] alphasCumprod;

    /** The sigma of each timestep, then the final sigma the last step goes to. */
    protected float[] sigmas;

    /** The last {@code solver_order} converted model outputs, oldest first (null until filled). */
    protected NDArray[] modelOutputs;

    /** How many steps have been taken since the window was emptied, up to {@code solver_order}. */
    protected int lowerOrderNums;

    // Port of diffusers scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.__init__ (the
    // noise schedule and the model-output window; UniPCMultistepScheduler.__init__ writes it again)
    MultistepSolverScheduler(SchedulerConfig config, String className) {
        super(config, className);
        // refused with the reason, as early as diffusers' __init__ does
        SigmaSchedules.checkSigmaConversion(this.config);
        alphasCumprod = NoiseSchedule.alphasCumprodForSigmas(this.config, className);
        modelOutputs = new NDArray[this.config.solverOrder()];
    }

    /**
     * Ends {@code set_timesteps}: the sigmas with {@code sigmaLast} appended (float32), the
     * timesteps cast to int64 as torch's {@code .to(int64)} does (truncation), and an empty
     * history.
     */
    protected final void setSchedule(double[] timesteps, double[] sigmas, double sigmaLast) {
        this.sigmas = SigmaSchedules.appendFloat32(sigmas, sigmaLast);
        this.timesteps = TimestepSpacing.toInt64(timesteps);
        this.numInferenceSteps = this.timesteps.length;
        resetHistory();
        resetStepIndex();
    }

    /** Frees the model-output window (and any other history) and restarts the warm-up. */
    protected void resetHistory() {
        for (NDArray m : modelOutputs) {
            drop(m);
        }
        modelOutputs = new NDArray[config.solverOrder()];
        lowerOrderNums = 0;
        clearHistory();
    }

    /** {@code alpha_t * original + sigma_t * noise} at the sigma of {@code t}'s step. */
    // Port of diffusers scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.add_noise
    // (copied into UniPC)
    @Override
    public NDArray addNoise(NDArray originalSamples, NDArray noise, double t) {
        checkSameShape(originalSamples, noise);
        float[] alphaSigma = SigmaSchedules.alphaSigma(sigmas[addNoiseIndex(t)]);
        return InnerScope.keep(
                () -> originalSamples.mul(alphaSigma[0]).add(noise.mul(alphaSigma[1])));
    }
}
