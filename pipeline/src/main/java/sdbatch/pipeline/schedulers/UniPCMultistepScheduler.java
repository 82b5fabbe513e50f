package sdbatch.pipeline.schedulers;

import static sdbatch.pipeline.schedulers.SigmaSchedules.alphaSigma;
import static sdbatch.pipeline.schedulers.SigmaSchedules.lambda;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * UniPC, a unified predictor-corrector framework (https://huggingface.co/papers/2302.04867): port
 * of diffusers {@code scheduling_unipc_multistep.UniPCMultistepScheduler} with its B(h) variants
 * {@code bh2} (default) and {@code bh1}, data ({@code predict_x0}) or noise prediction, any {@code
 * solver_order}, {@code disable_corrector}, and Karras or exponential sigmas. Deterministic.
 *
 * <p>Keeps the last {@code solver_order} model outputs and the last sample (for the corrector): not
 * thread-safe, one per run.
 */
public final class UniPCMultistepScheduler extends MultistepSolverScheduler {
    private final String solverType;
    private final boolean predictX0;
    private int thisOrder;
    private NDArray lastSample;

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.__init__
    public UniPCMultistepScheduler(SchedulerConfig config) {
        super(config, "UniPCMultistepScheduler");
        SchedulerConfig c = this.config;
        String st = c.solverType();
        solverType = st.equals("bh1") ? "bh1" : "bh2"; // midpoint, heun, logrho -> bh2
        predictX0 = c.predictX0();
    }

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        int numTrain = config.numTrainTimesteps();
        checkSteps(numInferenceSteps, numTrain);
        double[] t = TimestepSpacing.multistepTimesteps(config, numInferenceSteps, numTrain);

        float[] full = NoiseSchedule.sigmasOf(alphasCumprod);
        if (config.useKarrasSigmas() || config.useExponentialSigmas()) {
            double[] s =
                    SigmaSchedules.convertSigmas(
                            config, TimestepSpacing.flip(full), numInferenceSteps, true);
            t = SigmaSchedules.sigmasToT(s, NoiseSchedule.log(full));
            if (config.useKarrasSigmas()) {
                t = TimestepSpacing.round(t);
            }
            // unlike DPM-Solver++ (and UniPC's interpolated sigmas), "sigma_min" here is the
            // converted schedule's own last sigma, as diffusers' UniPC writes it
            double sigmaLast = config.finalSigmasType().equals("sigma_min") ? s[s.length - 1] : 0;
            setSchedule(t, s, sigmaLast);
        } else {
            double[] s = SigmaSchedules.interp(t, full);
            setSchedule(t, s, SigmaSchedules.finalSigma(config, alphasCumprod));
        }
    }

    /** Also forgets the corrector's last sample. */
    @Override
    protected void resetHistory() {
        drop(lastSample);
        lastSample = null;
        super.resetHistory();
    }

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.convert_model_output
    private NDArray convertModelOutput(NDArray modelOutput, NDArray sample) {
        float[] as = alphaSigma(sigmas[stepIndex]);
        if (predictX0) {
            return ScheduleMath.dataPrediction(config, modelOutput, sample, as);
        }
        switch (config.predictionType()) {
            case "epsilon":
                return modelOutput.duplicate();
            case "sample":
                return sample.sub(modelOutput.mul(as[0])).div(as[1]);
            case "v_prediction":
                return modelOutput.mul(as[0]).add(sample.mul(as[1]));
            default:
                throw new IllegalArgumentException(
                        "prediction_type " + config.predictionType() + " is not supported");
        }
    }

    /** {@code torch.linalg.solve(R, b)} with {@code R[i][k] = rks[k] ** i}, size n. */
    private static float[] solveVandermonde(float[] rks, float[] b, int n) {
        double[][] a = new double[n][n + 1];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                a[i][k] = Math.pow(rks[k], i);
            }
            a[i][n] = b[i];
        }
        // Gaussian elimination with partial pivoting
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) {
                if (Math.abs(a[r][col]) > Math.abs(a[piv][col])) {
                    piv = r;
                }
            }
            double[] tmp = a[col];
            a[col] = a[piv];
            a[piv] = tmp;
            for (int r = col + 1; r < n; r++) {
                double f = a[r][col] / a[col][col];
                for (int k = col; k <= n; k++) {
                    a[r][k] -= f * a[col][k];
                }
            }
        }
        float[] x = new float[n];
        for (int r = n - 1; r >= 0; r--) {
            double s = a[r][n];
            for (int k = r + 1; k < n; k++) {
                s -= a[r][k] * x[k];
            }
            x[r] = (float) (s / a[r][r]);
        }
        return x;
    }

    /**
     * What the predictor and the corrector compute alike for the step from sigma index {@code s0}
     * to {@code s0 + 1}: {@code (alpha, sigma)} at both ends, the ratios {@code rks} of the earlier
     * steps' lambda offsets to {@code h}, the scaled differences {@code D1s} of the earlier model
     * outputs from {@code m0}, and the B(h) terms ({@code b}, {@code B_h}, {@code h_phi_1}).
     */
    private record BhTerms(
            float[] alphaSigmaT,
            float[] alphaSigmaS0,
            float[] rks,
            List<NDArray> d1s,
            float[] b,
            float bH,
            float hPhi1) {}

    // Port of diffusers
    // scheduling_unipc_multistep.UniPCMultistepScheduler.multistep_uni_p_bh_update
    // (the part before the rhos, which multistep_uni_c_bh_update writes again one step back)
    private BhTerms bhTerms(int s0, int order, NDArray m0) {
        int n = modelOutputs.length;
        float[] t = alphaSigma(sigmas[s0 + 1]);
        float[] alphaSigmaS0 = alphaSigma(sigmas[s0]);
        float lambdaS0 = lambda(alphaSigmaS0);
        float h = lambda(t) - lambdaS0;

        float[] rks = new float[order];
        List<NDArray> d1s = new ArrayList<>();
        for (int i = 1; i < order; i++) {
            NDArray mi = modelOutputs[n - (i + 1)];
            float lambdaSi = lambda(alphaSigma(sigmas[s0 - i]));
            float rk = (lambdaSi - lambdaS0) / h;
            rks[i - 1] = rk;
            d1s.add(mi.sub(m0).div(rk));
        }
        rks[order - 1] = 1f;

        float hh = predictX0 ? -h : h;
        float hPhi1 = (float) Math.expm1(hh); // h\phi_1(h) = e^h - 1
        float hPhiK = hPhi1 / hh - 1;
        int factorialI = 1;
        float bH = solverType.equals("bh1") ? hh : (float) Math.expm1(hh);
        float[] b = new float[order];
        for (int i = 1; i <= order; i++) {
            b[i - 1] = hPhiK * factorialI / bH;
            factorialI *= i + 1;
            hPhiK = hPhiK / hh - 1f / factorialI;
        }
        return new BhTerms(t, alphaSigmaS0, rks, d1s, b, bH, hPhi1);
    }

    /** {@code sum(rhos[k] * D1s[k])}, null when there are no differences. */
    private static NDArray weightedSum(List<NDArray> d1s, float[] rhos) {
        NDArray sum = null;
        for (int k = 0; k < d1s.size(); k++) {
            NDArray term = d1s.get(k).mul(rhos[k]);
            sum = sum == null ? term : sum.add(term);
        }
        return sum;
    }

    /**
     * {@code x_t = x_t_ - B_h * res} (scaled by alpha_t for data prediction, sigma_t for noise
     * prediction), {@code x_t_} being the first-order update from {@code x}; {@code x_t_} alone
     * when {@code res} is null.
     */
    private NDArray bhUpdate(NDArray x, NDArray m0, BhTerms k, NDArray res) {
        float alphaT = k.alphaSigmaT()[0];
        float sigmaT = k.alphaSigmaT()[1];
        NDArray xt_;
        float resScale;
        if (predictX0) {
            xt_ = x.mul(sigmaT / k.alphaSigmaS0()[1]).sub(m0.mul(alphaT * k.hPhi1()));
            resScale = alphaT * k.bH();
        } else {
            xt_ = x.mul(alphaT / k.alphaSigmaS0()[0]).sub(m0.mul(sigmaT * k.hPhi1()));
            resScale = sigmaT * k.bH();
        }
        return res == null ? xt_ : xt_.sub(res.mul(resScale));
    }

    // Port of diffusers
    // scheduling_unipc_multistep.UniPCMultistepScheduler.multistep_uni_p_bh_update
    private NDArray uniPUpdate(NDArray sample, int order) {
        NDArray m0 = modelOutputs[modelOutputs.length - 1];
        BhTerms k = bhTerms(stepIndex, order, m0);
        NDArray predRes = null;
        if (!k.d1s().isEmpty()) {
            // for order 2, we use a simplified version
            float[] rhosP =
                    order == 2 ? new float[] {0.5f} : solveVandermonde(k.rks(), k.b(), order - 1);
            predRes = weightedSum(k.d1s(), rhosP);
        }
        return bhUpdate(sample, m0, k, predRes);
    }

    // Port of diffusers
    // scheduling_unipc_multistep.UniPCMultistepScheduler.multistep_uni_c_bh_update
    private NDArray uniCUpdate(NDArray thisModelOutput, NDArray lastSample, int order) {
        NDArray m0 = modelOutputs[modelOutputs.length - 1];
        BhTerms k = bhTerms(stepIndex - 1, order, m0);
        // for order 1, we use a simplified version
        float[] rhosC = order == 1 ? new float[] {0.5f} : solveVandermonde(k.rks(), k.b(), order);
        NDArray corrRes = weightedSum(k.d1s(), rhosC);
        NDArray d1T = thisModelOutput.sub(m0);
        NDArray inner = d1T.mul(rhosC[rhosC.length - 1]);
        if (corrRes != null) {
            inner = corrRes.add(inner);
        }
        return bhUpdate(lastSample, m0, k, inner);
    }

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        initMultistepStepIndex(t);
        boolean useCorrector =
                stepIndex > 0
                        && !config.disableCorrector().contains(stepIndex - 1)
                        && lastSample != null;

        NDArray converted = keep(convertModelOutput(modelOutput, sample), sample);
        if (useCorrector) {
            sample = uniCUpdate(converted, lastSample, thisOrder);
        }

        int order = config.solverOrder();
        push(modelOutputs, converted);

        int o = config.lowerOrderFinal() ? Math.min(order, timesteps.length - stepIndex) : order;
        thisOrder = Math.min(o, lowerOrderNums + 1); // warmup for multistep

        drop(lastSample);
        lastSample = useCorrector ? keep(sample, sample) : keepCopy(sample);
        NDArray prevSample = uniPUpdate(lastSample, thisOrder);

        if (lowerOrderNums < order) {
            lowerOrderNums += 1;
        }
        // upon completion increase step index by one
        stepIndex += 1;
        return new SchedulerOutput(prevSample, null);
    }
}
