package sdbatch.pipeline.schedulers;

import static sdbatch.pipeline.schedulers.SigmaSchedules.alphaSigma;
import static sdbatch.pipeline.schedulers.SigmaSchedules.lambda;

import ai.djl.ndarray.NDArray;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * DPM-Solver++ multistep (https://huggingface.co/papers/2211.01095): port of diffusers {@code
 * scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler} for {@code algorithm_type} {@code
 * dpmsolver++} (deterministic; A1111 "DPM++ 2M", with {@code use_karras_sigmas} "DPM++ 2M Karras")
 * and {@code sde-dpmsolver++} (draws noise), {@code solver_order} 1 to 3, {@code solver_type}
 * midpoint or heun, and diffusers' final-step rules ({@code lower_order_final}, {@code
 * euler_at_final}, {@code final_sigmas_type}). The deprecated {@code dpmsolver} and {@code
 * sde-dpmsolver} algorithm types are refused.
 *
 * <p>Keeps the last {@code solver_order} converted model outputs: not thread-safe, one per run.
 */
public final class DPMSolverMultistepScheduler extends MultistepSolverScheduler {
    private final String algorithmType;
    private final String solverType;

    // Port of diffusers scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.__init__
    public DPMSolverMultistepScheduler(SchedulerConfig config) {
        super(config, "DPMSolverMultistepScheduler");
        SchedulerConfig c = this.config;
        // settings for DPM-Solver
        String alg = c.algorithmType();
        if (alg.equals("deis")) {
            alg = "dpmsolver++";
        }
        if (!alg.equals("dpmsolver++") && !alg.equals("sde-dpmsolver++")) {
            throw new IllegalArgumentException(
                    "algorithm_type "
                            + alg
                            + " is deprecated in diffusers and not supported; use dpmsolver++ or"
                            + " sde-dpmsolver++");
        }
        algorithmType = alg;
        String st = c.solverType();
        solverType = st.equals("heun") ? "heun" : "midpoint"; // logrho, bh1, bh2 -> midpoint
        if (c.solverOrder() > 3) {
            throw new IllegalArgumentException(
                    "solver_order " + c.solverOrder() + " must be 1, 2 or 3");
        }
        if (c.solverOrder() == 3 && alg.equals("sde-dpmsolver++")) {
            throw new IllegalArgumentException(
                    "solver_order 3 is not implemented for sde-dpmsolver++ in diffusers");
        }
        if (c.varianceType() != null
                && (c.varianceType().equals("learned")
                        || c.varianceType().equals("learned_range"))) {
            throw new IllegalArgumentException(
                    "variance_type "
                            + c.varianceType()
                            + " (6-channel UNet output) is not supported");
        }
    }

    @Override
    public boolean drawsNoise() {
        return algorithmType.equals("sde-dpmsolver++");
    }

    // Port of diffusers scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        int numTrain = config.numTrainTimesteps();
        checkSteps(numInferenceSteps, numTrain);
        // Clipping the minimum of all lambda(t) for numerical stability.
        // This is critical for cosine (squaredcos_cap_v2) noise schedule.
        int clippedIdx = 0;
        float lambdaMin = (float) config.lambdaMinClipped();
        for (int i = alphasCumprod.length - 1; i >= 0; i--) {
            // searchsorted(flip(lambda_t), lambda_min_clipped): first flipped index >= value
            float a = alphasCumprod[i];
            float lambda =
                    (float) Math.log(ScheduleMath.sqrt(a))
                            - (float) Math.log(ScheduleMath.sqrt(1 - a));
            if (lambda >= lambdaMin) {
                break;
            }
            clippedIdx++;
        }
        int lastTimestep = numTrain - clippedIdx;

        double[] t = TimestepSpacing.multistepTimesteps(config, numInferenceSteps, lastTimestep);

        float[] full = NoiseSchedule.sigmasOf(alphasCumprod);
        double[] s;
        if (config.useKarrasSigmas() || config.useExponentialSigmas()) {
            s =
                    SigmaSchedules.convertSigmas(
                            config, TimestepSpacing.flip(full), numInferenceSteps, false);
            t = SigmaSchedules.sigmasToT(s, NoiseSchedule.log(full));
            // diffusers' DPM-Solver++ keeps the cosine schedule's Karras timesteps fractional
            // (UniPC rounds them all), and its sigma_min below is the training one
            if (config.useKarrasSigmas() && !config.betaSchedule().equals("squaredcos_cap_v2")) {
                t = TimestepSpacing.round(t);
            }
        } else {
            s = SigmaSchedules.interp(t, full);
        }
        setSchedule(t, s, SigmaSchedules.finalSigma(config, alphasCumprod));
    }

    // Port of diffusers
    // scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.convert_model_output
    private NDArray convertModelOutput(NDArray modelOutput, NDArray sample) {
        // DPM-Solver++ needs to solve an integral of the data prediction model.
        return ScheduleMath.dataPrediction(
                config, modelOutput, sample, alphaSigma(sigmas[stepIndex]));
    }

    private static float exp(float x) {
        return (float) Math.exp(x);
    }

    // Port of diffusers
    // scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.dpm_solver_first_order_update
    private NDArray firstOrderUpdate(NDArray m0, NDArray sample, NDArray noise) {
        float[] t = alphaSigma(sigmas[stepIndex + 1]);
        float[] s = alphaSigma(sigmas[stepIndex]);
        float h = lambda(t) - lambda(s);
        float alphaT = t[0];
        float sigmaT = t[1];
        float sigmaS = s[1];
        if (algorithmType.equals("dpmsolver++")) {
            return sample.mul(sigmaT / sigmaS).sub(m0.mul(alphaT * (exp(-h) - 1f)));
        }
        // sde-dpmsolver++
        return sample.mul(sigmaT / sigmaS * exp(-h))
                .add(m0.mul(alphaT * (1 - exp(-2f * h))))
                .add(noise.mul(sigmaT * ScheduleMath.sqrt(1f - exp(-2 * h))));
    }

    // Port of diffusers
    // scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.multistep_dpm_solver_second_order_update
    private NDArray secondOrderUpdate(NDArray sample, NDArray noise) {
        float[] t = alphaSigma(sigmas[stepIndex + 1]);
        float[] s0 = alphaSigma(sigmas[stepIndex]);
        float[] s1 = alphaSigma(sigmas[stepIndex - 1]);
        float lambdaT = lambda(t);
        float lambdaS0 = lambda(s0);
        float lambdaS1 = lambda(s1);
        NDArray m0 = modelOutputs[modelOutputs.length - 1];
        NDArray m1 = modelOutputs[modelOutputs.length - 2];
        float h = lambdaT - lambdaS0;
        float h0 = lambdaS0 - lambdaS1;
        float r0 = h0 / h;
        NDArray d0 = m0;
        NDArray d1 = m0.sub(m1).mul(1f / r0);
        float alphaT = t[0];
        float sigmaT = t[1];
        float sigmaS0 = s0[1];
        if (algorithmType.equals("dpmsolver++")) {
            // See https://huggingface.co/papers/2211.01095 for detailed derivations
            if (solverType.equals("midpoint")) {
                return sample.mul(sigmaT / sigmaS0)
                        .sub(d0.mul(alphaT * (exp(-h) - 1f)))
                        .sub(d1.mul(0.5f * (alphaT * (exp(-h) - 1f))));
            }
            return sample.mul(sigmaT / sigmaS0)
                    .sub(d0.mul(alphaT * (exp(-h) - 1f)))
                    .add(d1.mul(alphaT * ((exp(-h) - 1f) / h + 1f)));
        }
        // sde-dpmsolver++
        NDArray x = sample.mul(sigmaT / sigmaS0 * exp(-h)).add(d0.mul(alphaT * (1 - exp(-2f * h))));
        if (solverType.equals("midpoint")) {
            x = x.add(d1.mul(0.5f * (alphaT * (1 - exp(-2f * h)))));
        } else {
            x = x.add(d1.mul(alphaT * ((1f - exp(-2f * h)) / (-2f * h) + 1f)));
        }
        return x.add(noise.mul(sigmaT * ScheduleMath.sqrt(1f - exp(-2 * h))));
    }

    // Port of diffusers
    // scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.multistep_dpm_solver_third_order_update
    private NDArray thirdOrderUpdate(NDArray sample) {
        float[] t = alphaSigma(sigmas[stepIndex + 1]);
        float[] s0 = alphaSigma(sigmas[stepIndex]);
        float[] s1 = alphaSigma(sigmas[stepIndex - 1]);
        float[] s2 = alphaSigma(sigmas[stepIndex - 2]);
        float lambdaT = lambda(t);
        float lambdaS0 = lambda(s0);
        float lambdaS1 = lambda(s1);
        float lambdaS2 = lambda(s2);
        int n = modelOutputs.length;
        NDArray m0 = modelOutputs[n - 1];
        NDArray m1 = modelOutputs[n - 2];
        NDArray m2 = modelOutputs[n - 3];
        float h = lambdaT - lambdaS0;
        float h0 = lambdaS0 - lambdaS1;
        float h1 = lambdaS1 - lambdaS2;
        float r0 = h0 / h;
        float r1 = h1 / h;
        NDArray d10 = m0.sub(m1).mul(1f / r0);
        NDArray d11 = m1.sub(m2).mul(1f / r1);
        NDArray d1 = d10.add(d10.sub(d11).mul(r0 / (r0 + r1)));
        NDArray d2 = d10.sub(d11).mul(1f / (r0 + r1));
        float alphaT = t[0];
        float sigmaT = t[1];
        float sigmaS0 = s0[1];
        // See https://huggingface.co/papers/2206.00927 for detailed derivations
        return sample.mul(sigmaT / sigmaS0)
                .sub(m0.mul(alphaT * (exp(-h) - 1f)))
                .add(d1.mul(alphaT * ((exp(-h) - 1f) / h + 1f)))
                .sub(d2.mul(alphaT * ((exp(-h) - 1f + h) / (h * h) - 0.5f)));
    }

    // Port of diffusers scheduling_dpmsolver_multistep.DPMSolverMultistepScheduler.step
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        initMultistepStepIndex(t);
        int n = timesteps.length;
        // Improve numerical stability for small number of steps
        boolean lowerOrderFinal =
                stepIndex == n - 1
                        && (config.eulerAtFinal()
                                || (config.lowerOrderFinal() && n < 15)
                                || config.finalSigmasType().equals("zero"));
        boolean lowerOrderSecond = stepIndex == n - 2 && config.lowerOrderFinal() && n < 15;

        NDArray converted = keep(convertModelOutput(modelOutput, sample), sample);
        int order = config.solverOrder();
        push(modelOutputs, converted);

        NDArray variance = null;
        if (algorithmType.equals("sde-dpmsolver++")) {
            variance = noise.randn(sample.getManager(), modelOutput.getShape());
        }

        NDArray prevSample;
        if (order == 1 || lowerOrderNums < 1 || lowerOrderFinal) {
            prevSample = firstOrderUpdate(converted, sample, variance);
        } else if (order == 2 || lowerOrderNums < 2 || lowerOrderSecond) {
            prevSample = secondOrderUpdate(sample, variance);
        } else {
            prevSample = thirdOrderUpdate(sample);
        }
        if (lowerOrderNums < order) {
            lowerOrderNums += 1;
        }
        // upon completion increase step index by one
        stepIndex += 1;
        return new SchedulerOutput(prevSample, null);
    }
}
