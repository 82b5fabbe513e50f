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
public final class EulerDiscreteScheduler extends BaseScheduler {
    private final float[] alphasCumprod;
    private float[] sigmas;

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.__init__
    public EulerDiscreteScheduler(SchedulerConfig config) {
        super(config, "EulerDiscreteScheduler");
        SchedulerConfig c = this.config;
        float[] betas = ScheduleMath.betas(c, "EulerDiscreteScheduler");
        if (c.rescaleBetasZeroSnr()) {
            betas = ScheduleMath.rescaleZeroTerminalSnr(betas);
        }
        alphasCumprod = ScheduleMath.alphasCumprod(betas);
        if (c.rescaleBetasZeroSnr()) {
            // Close to 0 without being 0 so first sigma is not inf
            // FP16 smallest positive subnormal works well here
            alphasCumprod[alphasCumprod.length - 1] = (float) Math.pow(2, -24);
        }
        // diffusers' __init__ state: sigmas of all training steps, flipped, then 0
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

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.scale_model_input
    @Override
    public NDArray scaleModelInput(NDArray sample, double t) {
        if (stepIndex < 0) {
            stepIndex = indexOf(t);
        }
        float sigma = sigmas[stepIndex];
        return sample.div(ScheduleMath.sqrt(sigma * sigma + 1));
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        checkSteps(numInferenceSteps, Integer.MAX_VALUE);
        this.numInferenceSteps = numInferenceSteps;
        double[] t =
                ScheduleMath.toFloat32(
                        ScheduleMath.spacedTimesteps(config, numInferenceSteps, false));
        float[] full = ScheduleMath.sigmasOf(alphasCumprod);
        float[] logSigmas = ScheduleMath.log(full);
        double[] s;
        switch (config.interpolationType()) {
            case "linear":
                s = ScheduleMath.interp(t, full);
                break;
            case "log_linear":
                {
                    // torch.linspace(log(sigmas[-1]), log(sigmas[0]), n + 1).exp() in float32
                    float[] l =
                            ScheduleMath.torchLinspace(
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
                        "interpolation_type " + config.interpolationType() + " is not supported");
        }
        double[] converted = ScheduleMath.convertSigmas(config, s, numInferenceSteps, true);
        if (converted != null) {
            s = converted;
            t = ScheduleMath.sigmasToT(s, logSigmas);
        }
        double sigmaLast =
                config.finalSigmasType().equals("sigma_min")
                        ? ScheduleMath.sqrt((1 - alphasCumprod[0]) / alphasCumprod[0])
                        : 0.0;
        sigmas = ScheduleMath.appendFloat32(s, sigmaLast);
        if (config.timestepType().equals("continuous")
                && config.predictionType().equals("v_prediction")) {
            t = new double[sigmas.length - 1];
            for (int i = 0; i < t.length; i++) {
                t[i] = 0.25f * (float) Math.log(sigmas[i]);
            }
        }
        timesteps = ScheduleMath.toFloat32(t);
        stepIndex = -1;
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        if (stepIndex < 0) {
            stepIndex = indexOf(t);
        }
        float sigma = sigmas[stepIndex];
        // s_churn = 0: gamma = 0 and sigma_hat == sigma, no noise is added
        float sigmaHat = sigma;

        // 1. compute predicted original sample (x_0) from sigma-scaled predicted noise
        NDArray predOriginalSample;
        switch (config.predictionType()) {
            case "sample":
                predOriginalSample = modelOutput;
                break;
            case "epsilon":
                predOriginalSample = sample.sub(modelOutput.mul(sigmaHat));
                break;
            case "v_prediction":
                // denoised = model_output * c_out + input * c_skip
                predOriginalSample =
                        modelOutput
                                .mul(-sigma / ScheduleMath.sqrt(sigma * sigma + 1))
                                .add(sample.div(sigma * sigma + 1));
                break;
            default:
                throw new IllegalArgumentException(
                        "prediction_type "
                                + config.predictionType()
                                + " is not supported by Euler");
        }

        // 2. Convert to an ODE derivative
        NDArray derivative = sample.sub(predOriginalSample).div(sigmaHat);
        float dt = sigmas[stepIndex + 1] - sigmaHat;
        NDArray prevSample = sample.add(derivative.mul(dt));

        // upon completion increase step index by one
        stepIndex += 1;
        return new SchedulerOutput(prevSample, predOriginalSample);
    }
}
