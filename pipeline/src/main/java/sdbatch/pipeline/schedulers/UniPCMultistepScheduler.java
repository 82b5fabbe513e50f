package sdbatch.pipeline.schedulers;

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
public final class UniPCMultistepScheduler extends BaseScheduler {
    private final float[] alphasCumprod;
    private final String solverType;
    private final boolean predictX0;
    private float[] sigmas;
    private NDArray[] modelOutputs;
    private int lowerOrderNums;
    private int thisOrder;
    private NDArray lastSample;

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.__init__
    public UniPCMultistepScheduler(SchedulerConfig config) {
        super(config, "UniPCMultistepScheduler");
        SchedulerConfig c = this.config;
        if (c.useBetaSigmas() || (c.useExponentialSigmas() && c.useKarrasSigmas())) {
            // refused with the reason, as early as diffusers' __init__ does
            ScheduleMath.convertSigmas(c, new double[] {1}, 1, true);
        }
        float[] betas = ScheduleMath.betas(c, "UniPCMultistepScheduler");
        if (c.rescaleBetasZeroSnr()) {
            betas = ScheduleMath.rescaleZeroTerminalSnr(betas);
        }
        alphasCumprod = ScheduleMath.alphasCumprod(betas);
        if (c.rescaleBetasZeroSnr()) {
            // Close to 0 without being 0 so first sigma is not inf
            alphasCumprod[alphasCumprod.length - 1] = (float) Math.pow(2, -24);
        }
        String st = c.solverType();
        solverType = st.equals("bh1") ? "bh1" : "bh2"; // midpoint, heun, logrho -> bh2
        predictX0 = c.predictX0();
        modelOutputs = new NDArray[c.solverOrder()];
    }

    @Override
    public float initNoiseSigma() {
        return 1f;
    }

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        int numTrain = config.numTrainTimesteps();
        checkSteps(numInferenceSteps, numTrain);
        // "linspace", "leading", "trailing" corresponds to annotation of Table 2. of
        // https://huggingface.co/papers/2305.08891
        double[] t;
        switch (config.timestepSpacing()) {
            case "linspace":
                {
                    double[] l =
                            ScheduleMath.reverse(
                                    ScheduleMath.round(
                                            ScheduleMath.linspace(
                                                    0, numTrain - 1, numInferenceSteps + 1)));
                    t = java.util.Arrays.copyOf(l, numInferenceSteps);
                    break;
                }
            case "leading":
                {
                    int stepRatio = numTrain / (numInferenceSteps + 1);
                    t = new double[numInferenceSteps];
                    for (int i = 0; i < numInferenceSteps; i++) {
                        t[i] = (double) (numInferenceSteps - i) * stepRatio + config.stepsOffset();
                    }
                    break;
                }
            case "trailing":
                {
                    double stepRatio = (double) numTrain / numInferenceSteps;
                    t = ScheduleMath.round(ScheduleMath.arange(numTrain, 0, -stepRatio));
                    for (int i = 0; i < t.length; i++) {
                        t[i] -= 1;
                    }
                    break;
                }
            default:
                throw new IllegalArgumentException(
                        "timestep_spacing " + config.timestepSpacing() + " is not supported");
        }

        float[] full = ScheduleMath.sigmasOf(alphasCumprod);
        if (config.useKarrasSigmas() || config.useExponentialSigmas()) {
            float[] logSigmas = ScheduleMath.log(full);
            double[] flipped = new double[full.length];
            for (int i = 0; i < full.length; i++) {
                flipped[i] = full[full.length - 1 - i];
            }
            double[] s = ScheduleMath.convertSigmas(config, flipped, numInferenceSteps, true);
            t = ScheduleMath.sigmasToT(s, logSigmas);
            if (config.useKarrasSigmas()) {
                t = ScheduleMath.round(t);
            }
            double sigmaLast = config.finalSigmasType().equals("sigma_min") ? s[s.length - 1] : 0;
            sigmas = ScheduleMath.appendFloat32(s, sigmaLast);
        } else {
            double[] s = ScheduleMath.interp(t, full);
            double sigmaLast =
                    config.finalSigmasType().equals("sigma_min")
                            ? ScheduleMath.sqrt((1 - alphasCumprod[0]) / alphasCumprod[0])
                            : 0.0;
            sigmas = ScheduleMath.appendFloat32(s, sigmaLast);
        }
        // torch .to(int64) truncates
        timesteps = new double[t.length];
        for (int i = 0; i < t.length; i++) {
            timesteps[i] = (long) t[i];
        }
        this.numInferenceSteps = timesteps.length;
        for (NDArray m : modelOutputs) {
            drop(m);
        }
        modelOutputs = new NDArray[config.solverOrder()];
        lowerOrderNums = 0;
        drop(lastSample);
        lastSample = null;
        clearHistory();
        stepIndex = -1;
    }

    // Port of diffusers
    // scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler._sigma_to_alpha_sigma_t
    private static float[] alphaSigma(float sigma) {
        float alphaT = 1f / ScheduleMath.sqrt(sigma * sigma + 1);
        return new float[] {alphaT, sigma * alphaT};
    }

    private static float lambda(float[] alphaSigma) {
        return (float) Math.log(alphaSigma[0]) - (float) Math.log(alphaSigma[1]);
    }

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.convert_model_output
    private NDArray convertModelOutput(NDArray modelOutput, NDArray sample) {
        float[] as = alphaSigma(sigmas[stepIndex]);
        if (predictX0) {
            NDArray x0Pred;
            switch (config.predictionType()) {
                case "epsilon":
                    x0Pred = sample.sub(modelOutput.mul(as[1])).div(as[0]);
                    break;
                case "sample":
                    x0Pred = modelOutput.duplicate();
                    break;
                case "v_prediction":
                    x0Pred = sample.mul(as[0]).sub(modelOutput.mul(as[1]));
                    break;
                default:
                    throw new IllegalArgumentException(
                            "prediction_type " + config.predictionType() + " is not supported");
            }
            if (config.thresholding()) {
                x0Pred =
                        ScheduleMath.thresholdSample(
                                x0Pred, config.dynamicThresholdingRatio(), config.sampleMaxValue());
            }
            return x0Pred;
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

    /** The {@code b} vector and {@code B_h}, shared by predictor and corrector. */
    private float[] bVector(float hh, int order, float[] bhOut) {
        float hPhi1 = (float) Math.expm1(hh); // h\phi_1(h) = e^h - 1
        float hPhiK = hPhi1 / hh - 1;
        int factorialI = 1;
        float bh = solverType.equals("bh1") ? hh : (float) Math.expm1(hh);
        bhOut[0] = bh;
        bhOut[1] = hPhi1;
        float[] b = new float[order];
        for (int i = 1; i <= order; i++) {
            b[i - 1] = hPhiK * factorialI / bh;
            factorialI *= i + 1;
            hPhiK = hPhiK / hh - 1f / factorialI;
        }
        return b;
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

    // Port of diffusers
    // scheduling_unipc_multistep.UniPCMultistepScheduler.multistep_uni_p_bh_update
    private NDArray uniPUpdate(NDArray sample, int order) {
        int n = modelOutputs.length;
        NDArray m0 = modelOutputs[n - 1];
        NDArray x = sample;
        float[] t = alphaSigma(sigmas[stepIndex + 1]);
        float[] s0 = alphaSigma(sigmas[stepIndex]);
        float lambdaS0 = lambda(s0);
        float h = lambda(t) - lambdaS0;

        float[] rks = new float[order];
        List<NDArray> d1s = new ArrayList<>();
        for (int i = 1; i < order; i++) {
            int si = stepIndex - i;
            NDArray mi = modelOutputs[n - (i + 1)];
            float lambdaSi = lambda(alphaSigma(sigmas[si]));
            float rk = (lambdaSi - lambdaS0) / h;
            rks[i - 1] = rk;
            d1s.add(mi.sub(m0).div(rk));
        }
        rks[order - 1] = 1f;

        float hh = predictX0 ? -h : h;
        float[] bh = new float[2];
        float[] b = bVector(hh, order, bh);
        float bH = bh[0];
        float hPhi1 = bh[1];

        float[] rhosP = null;
        if (!d1s.isEmpty()) {
            // for order 2, we use a simplified version
            rhosP = order == 2 ? new float[] {0.5f} : solveVandermonde(rks, b, order - 1);
        }
        NDArray predRes = null;
        if (rhosP != null) {
            for (int k = 0; k < d1s.size(); k++) {
                NDArray term = d1s.get(k).mul(rhosP[k]);
                predRes = predRes == null ? term : predRes.add(term);
            }
        }
        float alphaT = t[0];
        float sigmaT = t[1];
        NDArray xt;
        if (predictX0) {
            NDArray xt_ = x.mul(sigmaT / s0[1]).sub(m0.mul(alphaT * hPhi1));
            xt = predRes == null ? xt_ : xt_.sub(predRes.mul(alphaT * bH));
        } else {
            NDArray xt_ = x.mul(alphaT / s0[0]).sub(m0.mul(sigmaT * hPhi1));
            xt = predRes == null ? xt_ : xt_.sub(predRes.mul(sigmaT * bH));
        }
        return xt;
    }

    // Port of diffusers
    // scheduling_unipc_multistep.UniPCMultistepScheduler.multistep_uni_c_bh_update
    private NDArray uniCUpdate(
            NDArray thisModelOutput, NDArray last, NDArray thisSample, int order) {
        int n = modelOutputs.length;
        NDArray m0 = modelOutputs[n - 1];
        NDArray x = last;
        NDArray modelT = thisModelOutput;
        float[] t = alphaSigma(sigmas[stepIndex]);
        float[] s0 = alphaSigma(sigmas[stepIndex - 1]);
        float lambdaS0 = lambda(s0);
        float h = lambda(t) - lambdaS0;

        float[] rks = new float[order];
        List<NDArray> d1s = new ArrayList<>();
        for (int i = 1; i < order; i++) {
            int si = stepIndex - (i + 1);
            NDArray mi = modelOutputs[n - (i + 1)];
            float lambdaSi = lambda(alphaSigma(sigmas[si]));
            float rk = (lambdaSi - lambdaS0) / h;
            rks[i - 1] = rk;
            d1s.add(mi.sub(m0).div(rk));
        }
        rks[order - 1] = 1f;

        float hh = predictX0 ? -h : h;
        float[] bh = new float[2];
        float[] b = bVector(hh, order, bh);
        float bH = bh[0];
        float hPhi1 = bh[1];

        // for order 1, we use a simplified version
        float[] rhosC = order == 1 ? new float[] {0.5f} : solveVandermonde(rks, b, order);
        NDArray corrRes = null;
        for (int k = 0; k < d1s.size(); k++) {
            NDArray term = d1s.get(k).mul(rhosC[k]);
            corrRes = corrRes == null ? term : corrRes.add(term);
        }
        NDArray d1T = modelT.sub(m0);
        NDArray inner = d1T.mul(rhosC[rhosC.length - 1]);
        if (corrRes != null) {
            inner = corrRes.add(inner);
        }
        float alphaT = t[0];
        float sigmaT = t[1];
        if (predictX0) {
            NDArray xt_ = x.mul(sigmaT / s0[1]).sub(m0.mul(alphaT * hPhi1));
            return xt_.sub(inner.mul(alphaT * bH));
        }
        NDArray xt_ = x.mul(alphaT / s0[0]).sub(m0.mul(sigmaT * hPhi1));
        return xt_.sub(inner.mul(sigmaT * bH));
    }

    // Port of diffusers scheduling_unipc_multistep.UniPCMultistepScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        if (stepIndex < 0) {
            int i = ScheduleMath.indexForTimestep(timesteps, t);
            stepIndex = i < 0 ? timesteps.length - 1 : i;
        }
        boolean useCorrector =
                stepIndex > 0
                        && !config.disableCorrector().contains(stepIndex - 1)
                        && lastSample != null;

        NDArray converted = keep(convertModelOutput(modelOutput, sample), sample);
        if (useCorrector) {
            sample = uniCUpdate(converted, lastSample, sample, thisOrder);
        }

        int order = config.solverOrder();
        drop(modelOutputs[0]);
        for (int i = 0; i < order - 1; i++) {
            modelOutputs[i] = modelOutputs[i + 1];
        }
        modelOutputs[order - 1] = converted;

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
