package sdbatch.pipeline.schedulers;

import sdbatch.pipeline.config.SchedulerConfig;

/**
 * The sigma side of diffusers' schedulers: interpolation of the training sigmas at the inference
 * timesteps, Karras and exponential sigmas, {@code _sigma_to_t}, the final sigma and {@code
 * init_noise_sigma}, and the multistep solvers' {@code (alpha_t, sigma_t)} and {@code lambda_t}.
 */
final class SigmaSchedules {
    private SigmaSchedules() {}

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
        double[] ramp = TimestepSpacing.linspace(0, 1, numInferenceSteps);
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
        double[] l =
                TimestepSpacing.linspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps);
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
                ? ScheduleMath.sqrt((1 - alphasCumprod[0]) / alphasCumprod[0])
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
        return ScheduleMath.sqrt(max * max + 1);
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
        float alphaT = 1f / ScheduleMath.sqrt(sigma * sigma + 1);
        return new float[] {alphaT, sigma * alphaT};
    }

    /**
     * {@code lambda_t = NoiseSchedule.log(alpha_t) - NoiseSchedule.log(sigma_t)} of an {@link
     * #alphaSigma} pair.
     */
    static float lambda(float[] alphaSigma) {
        return (float) Math.log(alphaSigma[0]) - (float) Math.log(alphaSigma[1]);
    }
}
