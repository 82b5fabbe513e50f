package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * A float64 reference for the three sigma-space samplers (Euler, LMS, Heun), written from the
 * published math (Karras et al. 2022, https://huggingface.co/papers/2206.00364, Algorithms 1 and 2;
 * k-diffusion's {@code sample_lms}; diffusers' sigma and timestep conventions) and deliberately not
 * from the production classes: it shares no code with them, computes in double (from a float64
 * noise schedule; only the inference sigmas and timesteps are rounded to float32, as diffusers
 * stores them), and computes the LMS coefficients by exact polynomial integration where production
 * uses Gauss quadrature. A scheduler test runs the production scheduler and this reference on the
 * same loop and compares every step's output element by element, so a scheduler that returns zeros,
 * drops a prediction type or mis-weights a step fails, which diffusers' sum-and-mean checks of
 * near-zero results cannot catch.
 *
 * <p>Scope: {@code timestep_spacing = "linspace"}, {@code interpolation_type = "linear"}, final
 * sigma 0, {@code s_churn = 0}, linear or scaled_linear betas, optional Karras sigmas.
 */
final class SigmaReference {
    enum Method {
        EULER,
        LMS,
        HEUN
    }

    /** The test's stand-in for the UNet: model output for a scaled input at timestep t. */
    interface Model {
        double[] output(double[] scaledInput, double t);
    }

    /** Every scheduler call's {@code prev_sample} and {@code pred_original_sample}. */
    record Trace(List<double[]> prevSamples, List<double[]> predOriginals) {}

    final Method method;
    final String predictionType;

    /** sigma of each training timestep, index = timestep (ascending). */
    final double[] trainSigmas;

    /** Inference sigmas, descending, then the final 0. */
    final double[] sigmas;

    /** The timestep of each inference sigma (one per sigma but the final 0). */
    final double[] timesteps;

    SigmaReference(
            Method method,
            int numTrain,
            double betaStart,
            double betaEnd,
            String betaSchedule,
            int steps,
            boolean karras,
            String predictionType) {
        this.method = method;
        this.predictionType = predictionType;
        // alpha_bar_t = prod_{s<=t} (1 - beta_s); sigma_t = sqrt((1 - alpha_bar_t) / alpha_bar_t)
        trainSigmas = new double[numTrain];
        double alphaBar = 1;
        for (int i = 0; i < numTrain; i++) {
            double frac = (double) i / (numTrain - 1);
            double beta;
            if (betaSchedule.equals("linear")) {
                beta = betaStart + frac * (betaEnd - betaStart);
            } else if (betaSchedule.equals("scaled_linear")) {
                double r =
                        Math.sqrt(betaStart) + frac * (Math.sqrt(betaEnd) - Math.sqrt(betaStart));
                beta = r * r;
            } else {
                throw new IllegalArgumentException(
                        "reference has no beta schedule " + betaSchedule);
            }
            alphaBar *= 1 - beta;
            trainSigmas[i] = Math.sqrt((1 - alphaBar) / alphaBar);
        }
        // "linspace" spacing: n timesteps evenly from numTrain-1 down to 0, sigma interpolated
        double[] t = new double[steps];
        double[] s = new double[steps];
        for (int k = 0; k < steps; k++) {
            t[k] = steps == 1 ? 0 : (numTrain - 1) * (1 - (double) k / (steps - 1));
            s[k] = sigmaAt(t[k]);
        }
        if (karras) {
            // Karras et al. eq. (5), rho = 7, between the schedule's own extreme sigmas
            double rho = 7;
            double hi = Math.pow(s[0], 1 / rho);
            double lo = Math.pow(s[steps - 1], 1 / rho);
            for (int k = 0; k < steps; k++) {
                double ramp = steps == 1 ? 0 : (double) k / (steps - 1);
                s[k] = Math.pow(hi + ramp * (lo - hi), rho);
                t[k] = timestepOf(s[k]);
            }
        }
        // diffusers keeps both as float32 tensors: the steps see float32 sigmas, and where a
        // step cancels to near zero (the v-prediction loops) that rounding is visible, so the
        // reference rounds them the same way and differs from float32 only in the arithmetic
        sigmas = new double[steps + 1];
        timesteps = new double[steps];
        for (int k = 0; k < steps; k++) {
            sigmas[k] = (float) s[k];
            timesteps[k] = (float) t[k];
        }
    }

    /**
     * The reference for a scheduler config, refusing the options it does not model (so a test
     * cannot silently compare against the wrong schedule).
     */
    static SigmaReference of(Method method, SchedulerConfig c, int steps) {
        if (!c.timestepSpacing().equals("linspace")
                || !c.interpolationType().equals("linear")
                || !c.finalSigmasType().equals("zero")
                || !c.timestepType().equals("discrete")
                || c.useExponentialSigmas()
                || c.useBetaSigmas()
                || c.rescaleBetasZeroSnr()
                || (method == Method.HEUN && c.clipSample())
                || c.sigmaMin() != null
                || c.sigmaMax() != null) {
            throw new IllegalArgumentException("the reference does not model " + c.toJson());
        }
        return new SigmaReference(
                method,
                c.numTrainTimesteps(),
                c.betaStart(),
                c.betaEnd(),
                c.betaSchedule(),
                steps,
                c.useKarrasSigmas(),
                c.predictionType());
    }

    /** Linear interpolation of the training sigmas at a fractional timestep. */
    double sigmaAt(double t) {
        int j = (int) Math.min(Math.floor(t), trainSigmas.length - 2);
        double w = t - j;
        return trainSigmas[j] * (1 - w) + trainSigmas[j + 1] * w;
    }

    /** The fractional timestep whose sigma is s, interpolating linearly in log sigma. */
    double timestepOf(double s) {
        double ls = Math.log(s);
        int last = trainSigmas.length - 1;
        if (ls <= Math.log(trainSigmas[0])) {
            return 0;
        }
        if (ls >= Math.log(trainSigmas[last])) {
            return last;
        }
        int j = 0;
        while (Math.log(trainSigmas[j + 1]) <= ls) {
            j++;
        }
        double a = Math.log(trainSigmas[j]);
        double b = Math.log(trainSigmas[j + 1]);
        return j + (ls - a) / (b - a);
    }

    /** The noise level of the first sample: the largest sigma (linspace spacing). */
    double initNoiseSigma() {
        return sigmas[0];
    }

    /** The timesteps a scheduler hands out: Heun repeats every inner one for its second stage. */
    double[] schedulerTimesteps() {
        if (method != Method.HEUN) {
            return timesteps.clone();
        }
        double[] out = new double[2 * timesteps.length - 1];
        out[0] = timesteps[0];
        for (int k = 1; k < timesteps.length; k++) {
            out[2 * k - 1] = timesteps[k];
            out[2 * k] = timesteps[k];
        }
        return out;
    }

    /**
     * The clean sample the model output implies at noise level sigma (x is the unscaled sample).
     */
    double[] denoised(double[] modelOutput, double[] x, double sigma) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            switch (predictionType) {
                case "epsilon":
                    d[i] = x[i] - sigma * modelOutput[i];
                    break;
                case "v_prediction":
                    // v = alpha * eps - sigma_vp * x0 in VP terms; in sigma space (Karras et
                    // al. Table 1 / Salimans & Ho 2022): x0 = c_skip x + c_out v with
                    // c_skip = 1 / (sigma^2 + 1), c_out = -sigma / sqrt(sigma^2 + 1)
                    d[i] =
                            x[i] / (sigma * sigma + 1)
                                    - modelOutput[i] * sigma / Math.hypot(sigma, 1);
                    break;
                case "sample":
                    d[i] = modelOutput[i];
                    break;
                default:
                    throw new IllegalArgumentException(predictionType);
            }
        }
        return d;
    }

    /**
     * Runs the sampler from {@code initial * initNoiseSigma()}. Each model call sees the sample
     * divided by sqrt(sigma^2 + 1). With {@code diffusersTestLoop} the scaled sample also replaces
     * the sample handed to the step, as diffusers' scheduler tests do ({@code sample =
     * scheduler.scale_model_input(sample, t)}); otherwise the step gets the unscaled sample, as the
     * pipelines do.
     */
    Trace run(double[] initial, Model model, boolean diffusersTestLoop) {
        List<double[]> prev = new ArrayList<>();
        List<double[]> pred = new ArrayList<>();
        double[] x = scale(initial, initNoiseSigma());
        List<double[]> derivatives = new ArrayList<>();
        int n = timesteps.length;
        for (int k = 0; k < n; k++) {
            double sigma = sigmas[k];
            double next = sigmas[k + 1];
            double[] in = scale(x, 1 / Math.hypot(sigma, 1));
            if (diffusersTestLoop) {
                x = in;
            }
            double[] x0 = denoised(model.output(in, timesteps[k]), x, sigma);
            double[] d = slope(x, x0, sigma);
            switch (method) {
                case EULER:
                    x = axpy(x, next - sigma, d);
                    prev.add(x);
                    pred.add(x0);
                    break;
                case LMS:
                    {
                        derivatives.add(d);
                        int order = Math.min(k + 1, 4);
                        double[] y = x;
                        for (int j = 0; j < order; j++) {
                            y = axpy(y, lmsCoefficient(k, j, order), derivatives.get(k - j));
                        }
                        x = y;
                        prev.add(x);
                        pred.add(x0);
                        break;
                    }
                case HEUN:
                    {
                        // predictor: an Euler step to the next sigma
                        double[] euler = axpy(x, next - sigma, d);
                        prev.add(euler);
                        pred.add(x0);
                        if (next == 0) {
                            // the last step stays first order (no derivative at sigma 0)
                            x = euler;
                            break;
                        }
                        // corrector: the trapezoid of the two slopes, from the same start
                        double[] in2 = scale(euler, 1 / Math.hypot(next, 1));
                        double[] at = diffusersTestLoop ? in2 : euler;
                        double[] x02 = denoised(model.output(in2, timesteps[k + 1]), at, next);
                        double[] d2 = slope(at, x02, next);
                        double[] avg = new double[d.length];
                        for (int i = 0; i < avg.length; i++) {
                            avg[i] = (d[i] + d2[i]) / 2;
                        }
                        x = axpy(x, next - sigma, avg);
                        prev.add(x);
                        pred.add(x02);
                        break;
                    }
                default:
                    throw new IllegalStateException();
            }
        }
        return new Trace(prev, pred);
    }

    /**
     * The LMS weight of the derivative {@code j} steps back at step {@code k}: the integral from
     * sigma_k to sigma_{k+1} of the Lagrange basis polynomial through sigma_k, ...,
     * sigma_{k-order+1} that is 1 at sigma_{k-j}. Integrated exactly: the polynomial is expanded in
     * u = tau - sigma_k and its antiderivative evaluated.
     */
    double lmsCoefficient(int k, int j, int order) {
        double[] poly = {1}; // coefficients of u^0, u^1, ...
        double denom = 1;
        double at = sigmas[k - j] - sigmas[k];
        for (int m = 0; m < order; m++) {
            if (m == j) {
                continue;
            }
            double root = sigmas[k - m] - sigmas[k];
            double[] p = new double[poly.length + 1];
            for (int e = 0; e < poly.length; e++) {
                p[e + 1] += poly[e];
                p[e] -= root * poly[e];
            }
            poly = p;
            denom *= at - root;
        }
        double h = sigmas[k + 1] - sigmas[k];
        double integral = 0;
        for (int e = 0; e < poly.length; e++) {
            integral += poly[e] * Math.pow(h, e + 1) / (e + 1);
        }
        return integral / denom;
    }

    private static double[] slope(double[] x, double[] x0, double sigma) {
        double[] d = new double[x.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = (x[i] - x0[i]) / sigma;
        }
        return d;
    }

    private static double[] scale(double[] a, double f) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * f;
        }
        return out;
    }

    private static double[] axpy(double[] y, double a, double[] x) {
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = y[i] + a * x[i];
        }
        return out;
    }

    // ---- the comparison with a production scheduler --------------------------------------------

    /** The shape of diffusers' {@code dummy_sample_deter}. */
    static final Shape SHAPE = new Shape(4, 3, 8, 8);

    /**
     * A fixed per-element offset added to diffusers' {@code dummy_model} output ({@code x * t / (t
     * + 1)}), so the model output is not proportional to its input. Without it the v-prediction
     * loops cancel to values near zero (diffusers' own v-prediction sums are 1e-4 or less), where
     * float32 rounding dominates and no element-wise comparison is meaningful.
     */
    static double offset(int i) {
        return 0.1 * Math.sin(0.37 * i + 0.5);
    }

    /** diffusers' {@code dummy_model}, optionally plus {@link #offset}, in double. */
    static Model referenceModel(boolean withOffset) {
        return (in, t) -> {
            double[] out = new double[in.length];
            for (int i = 0; i < in.length; i++) {
                out[i] = in[i] * t / (t + 1) + (withOffset ? offset(i) : 0);
            }
            return out;
        };
    }

    /** Relative tolerance per element: float32 steps against float64 ones. */
    static final double RTOL = 1e-4;

    /** Absolute floor, as a fraction of the array's largest reference value. */
    static final double ATOL_OF_MAX = 1e-4;

    /**
     * Runs {@code create.apply(config)} and this reference with the same loop and asserts that the
     * timesteps, the initial noise sigma and every step's {@code prev_sample} and {@code
     * pred_original_sample} agree element by element within {@code RTOL * |ref| + ATOL_OF_MAX *
     * max|ref|}. A scheduler returning zeros fails on the largest element (error = 100% of it).
     */
    void assertSchedulerMatches(
            Function<SchedulerConfig, Scheduler> create,
            SchedulerConfig config,
            boolean withOffset,
            boolean diffusersTestLoop,
            String what) {
        int n = (int) SHAPE.size();
        try (NDManager m = NDManager.newBaseManager();
                Scheduler s = create.apply(config)) {
            s.setTimesteps(timesteps.length);
            double[] ts = s.timesteps();
            double[] refTs = schedulerTimesteps();
            assertEquals(refTs.length, ts.length, what + ": number of timesteps");
            for (int i = 0; i < ts.length; i++) {
                // float32 timesteps of up to ~1000: a few ulps
                assertEquals(
                        refTs[i], ts[i], 2e-4 * Math.max(1, refTs[i]), what + ": t[" + i + "]");
            }
            assertEquals(
                    initNoiseSigma(),
                    s.initNoiseSigma(),
                    1e-6 * initNoiseSigma(),
                    what + ": init_noise_sigma");

            NDArray deter = DiffusersFixtures.sampleDeter(m);
            float[] initialF = deter.toFloatArray();
            double[] initial = new double[n];
            for (int i = 0; i < n; i++) {
                initial[i] = initialF[i];
            }
            float[] offsetF = new float[n];
            for (int i = 0; i < n; i++) {
                offsetF[i] = (float) offset(i);
            }
            Trace ref = run(initial, referenceModel(withOffset), diffusersTestLoop);

            NDArray offsets = m.create(offsetF, SHAPE);
            NDArray sample = deter.mul(s.initNoiseSigma());
            int call = 0;
            double worst = 0;
            for (double t : ts) {
                NDArray in = s.scaleModelInput(sample, t);
                NDArray out = DiffusersFixtures.model(in, t);
                if (withOffset) {
                    out = out.add(offsets);
                }
                SchedulerOutput o = s.step(out, t, diffusersTestLoop ? in : sample, null);
                double a =
                        assertClose(
                                ref.prevSamples().get(call),
                                o.prevSample().toFloatArray(),
                                what + ": prev_sample of call " + call + " (t " + t + ")");
                double b =
                        assertClose(
                                ref.predOriginals().get(call),
                                o.predOriginalSample().toFloatArray(),
                                what + ": pred_original_sample of call " + call + " (t " + t + ")");
                worst = Math.max(worst, Math.max(a, b));
                sample = o.prevSample();
                call++;
            }
            System.out.printf(
                    "%s: %d calls, largest element error %.3g of its allowance%n",
                    what, call, worst);
        }
    }

    /**
     * {@link #assertSchedulerMatches} for {@code steps} steps of the scheduler {@code create} makes
     * from {@code config}, against the reference of the same config.
     */
    static void assertMatches(
            Method method,
            Function<SchedulerConfig, Scheduler> create,
            SchedulerConfig config,
            int steps,
            boolean withOffset,
            boolean diffusersTestLoop) {
        of(method, config, steps)
                .assertSchedulerMatches(
                        create,
                        config,
                        withOffset,
                        diffusersTestLoop,
                        String.format(
                                "%s %s%s, %d steps, %s%s",
                                method,
                                config.predictionType(),
                                config.useKarrasSigmas() ? " karras" : "",
                                steps,
                                diffusersTestLoop ? "diffusers' test loop" : "pipeline loop",
                                withOffset ? " with offset model" : ""));
    }

    /** Asserts every element within its allowance; returns the largest error / allowance. */
    static double assertClose(double[] ref, float[] actual, String what) {
        assertEquals(ref.length, actual.length, what + ": length");
        double max = 0;
        for (double r : ref) {
            max = Math.max(max, Math.abs(r));
        }
        assertTrue(max > 0, what + ": the reference is all zeros, nothing to compare");
        int worst = -1;
        double worstRatio = 0;
        for (int i = 0; i < ref.length; i++) {
            double allowed = RTOL * Math.abs(ref[i]) + ATOL_OF_MAX * max;
            double ratio = Math.abs(actual[i] - ref[i]) / allowed;
            if (!(ratio <= worstRatio)) {
                worstRatio = ratio;
                worst = i;
            }
        }
        assertTrue(
                worstRatio <= 1,
                String.format(
                        "%s: element %d is %.9g, float64 reference %.9g (max |ref| %.3g): error"
                                + " %.3g times the allowance",
                        what,
                        worst,
                        actual[Math.max(worst, 0)],
                        ref[Math.max(worst, 0)],
                        max,
                        worstRatio));
        return worstRatio;
    }
}
