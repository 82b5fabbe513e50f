package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * What the diffusers scheduler files share: what diffusers marks {@code # Copied from}, what it
 * writes again line for line in several files (the timestep spacings, the sigma setup of the
 * sigma-space schedulers, the data prediction of the multistep solvers), and the numpy/torch
 * primitives they are written in, reproduced with their dtypes: torch schedule tensors are float32
 * ({@code float[]}), numpy arrays float64 ({@code double[]}). Each method names the diffusers code
 * it ports and the schedulers that use it; scheduler-specific logic stays in its scheduler's file.
 */
final class ScheduleMath {
    private ScheduleMath() {}

    // ---- beta schedules ----------------------------------------------------------------------

    /**
     * The {@code betas} of every scheduler's {@code __init__}: {@code trained_betas}, {@code
     * linear}, {@code scaled_linear} or {@code squaredcos_cap_v2} (as float32 torch tensors).
     * {@code sigmoid} only where the caller handles it (DDPM).
     */
    // Port of diffusers scheduling_ddim.DDIMScheduler.__init__ (the betas block, copied in all)
    static float[] betas(SchedulerConfig c, String owner) {
        int n = c.numTrainTimesteps();
        double[] trained = c.trainedBetas();
        if (trained != null) {
            float[] b = new float[trained.length];
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) trained[i];
            }
            return b;
        }
        switch (c.betaSchedule()) {
            case "linear":
                return torchLinspace(c.betaStart(), c.betaEnd(), n);
            case "scaled_linear":
                {
                    // this schedule is very specific to the latent diffusion model.
                    float[] b = torchLinspace(Math.sqrt(c.betaStart()), Math.sqrt(c.betaEnd()), n);
                    for (int i = 0; i < n; i++) {
                        b[i] = b[i] * b[i];
                    }
                    return b;
                }
            case "squaredcos_cap_v2":
                // Glide cosine schedule
                return betasForAlphaBar(n, 0.999);
            default:
                throw new IllegalArgumentException(
                        "beta_schedule " + c.betaSchedule() + " is not implemented for " + owner);
        }
    }

    /** {@code torch.linspace(start, end, steps, dtype=torch.float32)} on CPU (scalar kernel). */
    static float[] torchLinspace(double start, double end, int steps) {
        float s = (float) start;
        float e = (float) end;
        float[] out = new float[steps];
        if (steps == 1) {
            out[0] = s;
            return out;
        }
        float step = (e - s) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++) {
            out[i] = i < halfway ? s + step * i : e - step * (steps - i - 1);
        }
        return out;
    }

    // Port of diffusers scheduling_ddpm.betas_for_alpha_bar (cosine)
    static float[] betasForAlphaBar(int numDiffusionTimesteps, double maxBeta) {
        float[] betas = new float[numDiffusionTimesteps];
        for (int i = 0; i < numDiffusionTimesteps; i++) {
            double t1 = (double) i / numDiffusionTimesteps;
            double t2 = (double) (i + 1) / numDiffusionTimesteps;
            betas[i] = (float) Math.min(1 - alphaBarCosine(t2) / alphaBarCosine(t1), maxBeta);
        }
        return betas;
    }

    private static double alphaBarCosine(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    // Port of diffusers scheduling_ddim.rescale_zero_terminal_snr
    static float[] rescaleZeroTerminalSnr(float[] betas) {
        int n = betas.length;
        // Convert betas to alphas_bar_sqrt
        float[] alphas = new float[n];
        for (int i = 0; i < n; i++) {
            alphas[i] = 1f - betas[i];
        }
        float[] cumprod = cumprod(alphas);
        float[] abs = new float[n];
        for (int i = 0; i < n; i++) {
            abs[i] = (float) Math.sqrt(cumprod[i]);
        }
        // Store old values.
        float a0 = abs[0];
        float aT = abs[n - 1];
        // Shift so the last timestep is zero; scale so the first timestep is back to the old value.
        float scale = a0 / (a0 - aT);
        for (int i = 0; i < n; i++) {
            abs[i] = (abs[i] - aT) * scale;
        }
        // Convert alphas_bar_sqrt to betas
        float[] out = new float[n];
        float prev = 0;
        for (int i = 0; i < n; i++) {
            float bar = abs[i] * abs[i]; // Revert sqrt
            float alpha = i == 0 ? bar : bar / prev; // Revert cumprod
            out[i] = 1f - alpha;
            prev = bar;
        }
        return out;
    }

    /** {@code torch.cumprod} of a float32 tensor on CPU: accumulates in double, stores float. */
    static float[] cumprod(float[] a) {
        float[] out = new float[a.length];
        double acc = 1.0;
        for (int i = 0; i < a.length; i++) {
            acc *= a[i];
            out[i] = (float) acc;
        }
        return out;
    }

    /** {@code alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)}. */
    static float[] alphasCumprod(float[] betas) {
        float[] alphas = new float[betas.length];
        for (int i = 0; i < betas.length; i++) {
            alphas[i] = 1f - betas[i];
        }
        return cumprod(alphas);
    }

    /**
     * The {@code alphas_cumprod} of the schedulers that turn it into sigmas (Euler, Euler a,
     * DPM-Solver++, UniPC): the betas, rescaled to zero terminal SNR when {@code
     * rescale_betas_zero_snr} is set, and then the last alphas_cumprod lifted from 0 to 2^-24, the
     * smallest positive fp16 subnormal, so that the first sigma is finite rather than inf.
     */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.__init__ (the
    // alphas_cumprod block, written again in the Euler a, DPM-Solver++ and UniPC __init__)
    static float[] alphasCumprodForSigmas(SchedulerConfig c, String owner) {
        float[] betas = betas(c, owner);
        if (c.rescaleBetasZeroSnr()) {
            betas = rescaleZeroTerminalSnr(betas);
        }
        float[] alphasCumprod = alphasCumprod(betas);
        if (c.rescaleBetasZeroSnr()) {
            alphasCumprod[alphasCumprod.length - 1] = (float) Math.pow(2, -24);
        }
        return alphasCumprod;
    }

    /** {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5} in float32. */
    static float[] sigmasOf(float[] alphasCumprod) {
        float[] s = new float[alphasCumprod.length];
        for (int i = 0; i < s.length; i++) {
            float a = alphasCumprod[i];
            s[i] = (float) Math.sqrt((1f - a) / a);
        }
        return s;
    }

    /** {@code np.log} of a float32 array (float32 result). */
    static float[] log(float[] a) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) Math.log(a[i]);
        }
        return out;
    }

    // ---- numpy primitives of the timestep spacings ------------------------------------------

    /** {@code np.linspace(start, stop, num)} (float64, endpoint included). */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        if (num == 1) {
            y[0] = start;
            return y;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            y[i] = i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    /** {@code np.arange(start, stop, step)} for float steps (numpy's fill: start + i*delta). */
    static double[] arange(double start, double stop, double step) {
        int len = (int) Math.ceil((stop - start) / step);
        if (len <= 0) {
            return new double[0];
        }
        double[] out = new double[len];
        out[0] = start;
        if (len > 1) {
            double delta = (start + step) - start;
            for (int i = 1; i < len; i++) {
                out[i] = start + i * delta;
            }
        }
        return out;
    }

    /** {@code np.round} (half to even) of every element. */
    static double[] round(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Math.rint(a[i]);
        }
        return out;
    }

    static double[] reverse(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[a.length - 1 - i];
        }
        return out;
    }

    /** {@code np.flip} of a float32 array, widened to float64 (the sigma converters' input). */
    static double[] flip(float[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[a.length - 1 - i];
        }
        return out;
    }

    /**
     * {@code astype(np.int64)} / torch {@code .to(int64)}: truncation toward zero, kept as double.
     */
    static double[] toInt64(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (long) a[i];
        }
        return out;
    }

    /** Casts every element to float32 (numpy {@code astype(np.float32)}), kept as double. */
    static double[] toFloat32(double[] a) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = (float) a[i];
        }
        return out;
    }

    /**
     * The "linspace" / "leading" / "trailing" spacings of Table 2 of
     * https://huggingface.co/papers/2305.08891 as the single-grid schedulers (DDIM, DDPM, LMS,
     * Euler, Euler a, Heun) write them, before any cast: descending, float64 values.
     */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.set_timesteps (spacing)
    static double[] spacedTimesteps(
            SchedulerConfig c, int numInferenceSteps, boolean roundLinspace) {
        int numTrain = c.numTrainTimesteps();
        switch (c.timestepSpacing()) {
            case "linspace":
                {
                    double[] t = linspace(0, numTrain - 1, numInferenceSteps);
                    return reverse(roundLinspace ? round(t) : t);
                }
            case "leading":
                {
                    int stepRatio = numTrain / numInferenceSteps;
                    // creates integer timesteps by multiplying by ratio
                    double[] t = new double[numInferenceSteps];
                    for (int i = 0; i < numInferenceSteps; i++) {
                        t[numInferenceSteps - 1 - i] = (double) i * stepRatio + c.stepsOffset();
                    }
                    return t;
                }
            case "trailing":
                return trailingTimesteps(numTrain, numTrain, numInferenceSteps);
            default:
                throw unsupportedSpacing(c);
        }
    }

    /**
     * The "linspace" / "leading" / "trailing" spacings as the multistep solvers (DPM-Solver++,
     * UniPC) write them: linspace and leading lay {@code numInferenceSteps + 1} points and drop the
     * last (timestep 0 or steps_offset), and all three end at {@code lastTimestep}, which
     * DPM-Solver++ lowers below {@code num_train_timesteps} when it clips lambda. Descending,
     * float64 values, before the cast to int64.
     */
    // Port of diffusers scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.set_timesteps
    // (spacing; UniPCMultistepScheduler.set_timesteps has it with last_timestep =
    // num_train_timesteps)
    static double[] multistepTimesteps(SchedulerConfig c, int numInferenceSteps, int lastTimestep) {
        switch (c.timestepSpacing()) {
            case "linspace":
                {
                    double[] t =
                            reverse(round(linspace(0, lastTimestep - 1, numInferenceSteps + 1)));
                    return Arrays.copyOf(t, numInferenceSteps);
                }
            case "leading":
                {
                    int stepRatio = lastTimestep / (numInferenceSteps + 1);
                    // creates integer timesteps by multiplying by ratio
                    double[] t = new double[numInferenceSteps];
                    for (int i = 0; i < numInferenceSteps; i++) {
                        t[i] = (double) (numInferenceSteps - i) * stepRatio + c.stepsOffset();
                    }
                    return t;
                }
            case "trailing":
                return trailingTimesteps(lastTimestep, c.numTrainTimesteps(), numInferenceSteps);
            default:
                throw unsupportedSpacing(c);
        }
    }

    /**
     * {@code np.arange(lastTimestep, 0, -num_train / n).round() - 1}: the "trailing" spacing of
     * every scheduler (descending); the step ratio is always taken over all training steps.
     */
    private static double[] trailingTimesteps(
            int lastTimestep, int numTrain, int numInferenceSteps) {
        double stepRatio = (double) numTrain / numInferenceSteps;
        double[] t = round(arange(lastTimestep, 0, -stepRatio));
        for (int i = 0; i < t.length; i++) {
            t[i] -= 1;
        }
        return t;
    }

    private static IllegalArgumentException unsupportedSpacing(SchedulerConfig c) {
        return new IllegalArgumentException(
                "timestep_spacing " + c.timestepSpacing() + " is not supported");
    }

    // ---- sigmas ------------------------------------------------------------------------------

    /** {@code np.interp(x, np.arange(len(fp)), fp)} (float64). */
    static double[] interp(double[] x, float[] fp) {
        double[] out = new double[x.length];
        int n = fp.length;
        for (int i = 0; i < x.length; i++) {
            double xv = x[i];
            if (xv <= 0) {
                out[i] = fp[0];
            } else if (xv >= n - 1) {
                out[i] = fp[n - 1];
            } else {
                int j = (int) Math.floor(xv);
                double slope = ((double) fp[j + 1] - fp[j]) / 1.0;
                out[i] = slope * (xv - j) + fp[j];
            }
        }
        return out;
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler._convert_to_karras
    static double[] karras(double sigmaMin, double sigmaMax, int numInferenceSteps) {
        double rho = 7.0; // 7.0 is the value used in the paper
        double[] ramp = linspace(0, 1, numInferenceSteps);
        double minInvRho = Math.pow(sigmaMin, 1 / rho);
        double maxInvRho = Math.pow(sigmaMax, 1 / rho);
        double[] sigmas = new double[numInferenceSteps];
        for (int i = 0; i < sigmas.length; i++) {
            sigmas[i] = Math.pow(maxInvRho + ramp[i] * (minInvRho - maxInvRho), rho);
        }
        return sigmas;
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler._convert_to_exponential
    static double[] exponential(double sigmaMin, double sigmaMax, int numInferenceSteps) {
        double[] l = linspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps);
        double[] sigmas = new double[numInferenceSteps];
        for (int i = 0; i < sigmas.length; i++) {
            sigmas[i] = Math.exp(l[i]);
        }
        return sigmas;
    }

    /**
     * The Karras or exponential sigmas of the sigma-space schedulers, from their interpolated
     * {@code in} sigmas (descending) and the optional {@code sigma_min}/{@code sigma_max} config
     * keys (only for the classes whose {@code __init__} has them: {@code honourBounds}), or null
     * when neither is configured. {@code use_beta_sigmas} needs scipy's beta ppf and is refused.
     */
    static double[] convertSigmas(
            SchedulerConfig c, double[] in, int numInferenceSteps, boolean honourBounds) {
        checkSigmaConversion(c);
        double sigmaMin = honourBounds && c.sigmaMin() != null ? c.sigmaMin() : in[in.length - 1];
        double sigmaMax = honourBounds && c.sigmaMax() != null ? c.sigmaMax() : in[0];
        if (c.useKarrasSigmas()) {
            return karras(sigmaMin, sigmaMax, numInferenceSteps);
        }
        if (c.useExponentialSigmas()) {
            return exponential(sigmaMin, sigmaMax, numInferenceSteps);
        }
        return null;
    }

    /**
     * Refuses more than one of {@code use_karras_sigmas}, {@code use_exponential_sigmas}, {@code
     * use_beta_sigmas} (as diffusers' {@code __init__} does) and {@code use_beta_sigmas} itself.
     */
    static void checkSigmaConversion(SchedulerConfig c) {
        if ((c.useKarrasSigmas() ? 1 : 0)
                        + (c.useExponentialSigmas() ? 1 : 0)
                        + (c.useBetaSigmas() ? 1 : 0)
                > 1) {
            throw new IllegalArgumentException(
                    "Only one of use_beta_sigmas, use_exponential_sigmas, use_karras_sigmas can be"
                            + " used");
        }
        if (c.useBetaSigmas()) {
            throw new IllegalArgumentException("use_beta_sigmas is not supported by sdbatch");
        }
    }

    /** {@code np.array([_sigma_to_t(s, log_sigmas) for s in sigmas])}. */
    static double[] sigmasToT(double[] sigmas, float[] logSigmas) {
        double[] t = new double[sigmas.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = sigmaToT(sigmas[i], logSigmas);
        }
        return t;
    }

    /** {@code np.concatenate([sigmas, [last]]).astype(np.float32)}. */
    static float[] appendFloat32(double[] sigmas, double last) {
        float[] out = new float[sigmas.length + 1];
        for (int i = 0; i < sigmas.length; i++) {
            out[i] = (float) sigmas[i];
        }
        out[sigmas.length] = (float) last;
        return out;
    }

    /**
     * The sigma appended after the schedule for {@code final_sigmas_type}: {@code sigma_min}, the
     * training schedule's smallest sigma {@code ((1 - alphas_cumprod[0]) / alphas_cumprod[0]) **
     * 0.5}, or {@code zero}.
     */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.set_timesteps (sigma_last;
    // written again in DPMSolverMultistepScheduler and UniPCMultistepScheduler)
    static double finalSigma(SchedulerConfig c, float[] alphasCumprod) {
        return c.finalSigmasType().equals("sigma_min")
                ? sqrt((1 - alphasCumprod[0]) / alphasCumprod[0])
                : 0.0;
    }

    /** {@code max(sigmas)} for linspace/trailing spacing, else {@code (max**2 + 1) ** 0.5}. */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.init_noise_sigma
    static float initNoiseSigma(SchedulerConfig c, float[] sigmas) {
        float max = Float.NEGATIVE_INFINITY;
        for (float s : sigmas) {
            max = Math.max(max, s);
        }
        String spacing = c.timestepSpacing();
        if (spacing.equals("linspace") || spacing.equals("trailing")) {
            return max;
        }
        return sqrt(max * max + 1);
    }

    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler._sigma_to_t
    static double sigmaToT(double sigma, float[] logSigmas) {
        // get log sigma
        double logSigma = Math.log(Math.max(sigma, 1e-10));
        // get sigmas range: the last index whose log sigma is <= log_sigma (argmax of the cumsum)
        int n = logSigmas.length;
        int lowIdx = 0;
        for (int i = 0; i < n; i++) {
            if (logSigma - logSigmas[i] >= 0) {
                lowIdx = i;
            }
        }
        lowIdx = Math.min(lowIdx, n - 2);
        int highIdx = lowIdx + 1;
        double low = logSigmas[lowIdx];
        double high = logSigmas[highIdx];
        // interpolate sigmas
        double w = (low - logSigma) / (low - high);
        w = Math.max(0, Math.min(1, w));
        // transform interpolation to time range
        return (1 - w) * lowIdx + w * highIdx;
    }

    /** {@code (schedule_timesteps == timestep).nonzero()}, second match if several, else -1. */
    // Port of diffusers scheduling_euler_discrete.EulerDiscreteScheduler.index_for_timestep
    static int indexForTimestep(double[] timesteps, double t) {
        int first = -1;
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] == t) {
                if (first >= 0) {
                    // The first step taken is never the first index (for image-to-image), so a
                    // repeated timestep resolves to the second occurrence, as in diffusers.
                    return i;
                }
                first = i;
            }
        }
        return first;
    }

    // ---- the multistep solvers' noise schedule -----------------------------------------------

    /** {@code (alpha_t, sigma_t)} of a sigma, in float32. */
    // Port of diffusers
    // scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler._sigma_to_alpha_sigma_t
    // (copied into UniPCMultistepScheduler)
    static float[] alphaSigma(float sigma) {
        float alphaT = 1f / sqrt(sigma * sigma + 1);
        return new float[] {alphaT, sigma * alphaT};
    }

    /** {@code lambda_t = log(alpha_t) - log(sigma_t)} of an {@link #alphaSigma} pair. */
    static float lambda(float[] alphaSigma) {
        return (float) Math.log(alphaSigma[0]) - (float) Math.log(alphaSigma[1]);
    }

    // ---- tensor helpers ------------------------------------------------------------------------

    /**
     * The data prediction x0 of the multistep solvers' {@code convert_model_output} (DPM-Solver++,
     * and UniPC with {@code predict_x0}) from the model output at a sigma's {@code (alpha_t,
     * sigma_t)}, dynamically thresholded when {@code thresholding} is set. A new array: it is kept
     * as history, and the caller may close model_output.
     */
    // Port of diffusers
    // scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.convert_model_output (the
    // dpmsolver++ branch; UniPCMultistepScheduler.convert_model_output's predict_x0 branch)
    static NDArray dataPrediction(
            SchedulerConfig c, NDArray modelOutput, NDArray sample, float[] alphaSigma) {
        float alphaT = alphaSigma[0];
        float sigmaT = alphaSigma[1];
        NDArray x0Pred;
        switch (c.predictionType()) {
            case "epsilon":
                x0Pred = sample.sub(modelOutput.mul(sigmaT)).div(alphaT);
                break;
            case "sample":
                x0Pred = modelOutput.duplicate();
                break;
            case "v_prediction":
                x0Pred = sample.mul(alphaT).sub(modelOutput.mul(sigmaT));
                break;
            default:
                throw new IllegalArgumentException(
                        "prediction_type " + c.predictionType() + " is not supported");
        }
        return c.thresholding() ? thresholdSample(c, x0Pred) : x0Pred;
    }

    /**
     * x0 predicted from the model output at {@code alpha_prod_t} (formula (15) of
     * https://huggingface.co/papers/2006.11239, formula (12) of
     * https://huggingface.co/papers/2010.02502): {@code (sample - beta_prod_t ** 0.5 * eps) /
     * alpha_prod_t ** 0.5} for epsilon, {@code alpha_prod_t ** 0.5 * sample - beta_prod_t ** 0.5 *
     * v} for v_prediction, the model output itself for sample.
     */
    // Port of diffusers scheduling_ddpm.DDPMScheduler.step (step 2; DDIMScheduler.step step 3)
    static NDArray predictOriginalSample(
            SchedulerConfig c, NDArray modelOutput, NDArray sample, float alphaProdT) {
        float betaProdT = 1 - alphaProdT;
        switch (c.predictionType()) {
            case "epsilon":
                return sample.sub(modelOutput.mul(sqrt(betaProdT))).div(sqrt(alphaProdT));
            case "sample":
                return modelOutput;
            case "v_prediction":
                return sample.mul(sqrt(alphaProdT)).sub(modelOutput.mul(sqrt(betaProdT)));
            default:
                throw new IllegalArgumentException(
                        "prediction_type " + c.predictionType() + " is not supported");
        }
    }

    /**
     * Step "Clip or threshold predicted x_0" of DDPM and DDIM: dynamic thresholding when {@code
     * thresholding} is set, else clipping to {@code clip_sample_range} when {@code clip_sample} is.
     */
    // Port of diffusers scheduling_ddpm.DDPMScheduler.step (step 3; DDIMScheduler.step step 4)
    static NDArray clipOrThreshold(SchedulerConfig c, NDArray predOriginalSample) {
        if (c.thresholding()) {
            return thresholdSample(c, predOriginalSample);
        }
        if (c.clipSample()) {
            float r = (float) c.clipSampleRange();
            return predOriginalSample.clip(-r, r);
        }
        return predOriginalSample;
    }

    /** {@link #thresholdSample(NDArray, double, double)} with the config's ratio and maximum. */
    static NDArray thresholdSample(SchedulerConfig c, NDArray sample) {
        return thresholdSample(sample, c.dynamicThresholdingRatio(), c.sampleMaxValue());
    }

    /**
     * Dynamic thresholding of https://huggingface.co/papers/2205.11487: per image, s = the {@code
     * ratio} quantile of |x0| clamped to [1, maxValue]; x0 is clamped to [-s, s] and divided by s.
     */
    // Port of diffusers scheduling_ddpm.DDPMScheduler._threshold_sample
    static NDArray thresholdSample(NDArray sample, double ratio, double maxValue) {
        Shape shape = sample.getShape();
        int batch = (int) shape.get(0);
        long per = shape.size() / batch;
        // Flatten sample for doing quantile calculation along each image
        NDArray flat = sample.reshape(batch, per);
        float[] values = flat.abs().toFloatArray();
        float[] s = new float[batch];
        for (int b = 0; b < batch; b++) {
            float[] row = Arrays.copyOfRange(values, (int) (b * per), (int) ((b + 1) * per));
            Arrays.sort(row);
            // torch.quantile: linear interpolation at rank q * (n - 1), rank in float32
            float rank = (float) ratio * (per - 1);
            int lo = (int) Math.floor(rank);
            int hi = (int) Math.ceil(rank);
            float w = rank - lo;
            float q =
                    w < 0.5f
                            ? row[lo] + w * (row[hi] - row[lo])
                            : row[hi] - (row[hi] - row[lo]) * (1f - w);
            // When clamped to min=1, equivalent to standard clipping to [-1, 1]
            s[b] = Math.min(Math.max(q, 1f), (float) maxValue);
        }
        NDArray sArr = sample.getManager().create(s, new Shape(batch, 1));
        // "we threshold xt0 to the range [-s, s] and then divide by s"
        return flat.maximum(sArr.neg()).minimum(sArr).div(sArr).reshape(shape);
    }

    /** {@code float32 ** 0.5}. */
    static float sqrt(float x) {
        return (float) Math.sqrt(x);
    }
}
