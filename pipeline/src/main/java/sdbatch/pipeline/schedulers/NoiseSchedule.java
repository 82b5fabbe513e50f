package sdbatch.pipeline.schedulers;

import sdbatch.pipeline.config.SchedulerConfig;

/**
 * The training noise schedule of diffusers' schedulers: beta schedules ({@code linear}, {@code
 * scaled_linear}, {@code squaredcos_cap_v2}, trained betas), zero-terminal-SNR rescaling, {@code
 * alphas_cumprod} and the training sigmas, with torch's float32 arithmetic.
 */
final class NoiseSchedule {
    private NoiseSchedule() {}

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
}
