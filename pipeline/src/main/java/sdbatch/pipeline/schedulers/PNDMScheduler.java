package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * Pseudo numerical methods for diffusion models (https://huggingface.co/papers/2202.09778): port of
 * diffusers {@code scheduling_pndm.PNDMScheduler}, the Runge-Kutta warm-up (PRK) and the linear
 * multistep (PLMS) parts; {@code skip_prk_steps} (Stable Diffusion's config) replaces the PRK
 * warm-up with PLMS' own start. AUTOMATIC1111 calls this sampler "PLMS".
 *
 * <p>Keeps the last model outputs ({@code ets}) between steps: not thread-safe, one per run.
 */
public final class PNDMScheduler extends BaseScheduler {
    private static final int PNDM_ORDER = 4;

    private final float[] alphasCumprod;
    private final float finalAlphaCumprod;

    private double[] prkTimesteps = new double[0];
    private int counter;
    private NDArray curModelOutput; // null = diffusers' 0
    private NDArray curSample;
    private final List<NDArray> ets = new ArrayList<>();

    // Port of diffusers scheduling_pndm.PNDMScheduler.__init__
    public PNDMScheduler(SchedulerConfig config) {
        super(config, "PNDMScheduler");
        String p = this.config.predictionType();
        if (!p.equals("epsilon") && !p.equals("v_prediction")) {
            throw new IllegalArgumentException(
                    "prediction_type "
                            + p
                            + " must be one of `epsilon` or `v_prediction` for PNDMScheduler");
        }
        alphasCumprod =
                NoiseSchedule.alphasCumprod(NoiseSchedule.betas(this.config, "PNDMScheduler"));
        // For the final step, there is no previous alphas_cumprod because we are already at 0.
        finalAlphaCumprod = this.config.setAlphaToOne() ? 1f : alphasCumprod[0];
    }

    // Port of diffusers scheduling_pndm.PNDMScheduler.set_timesteps
    @Override
    public void setTimesteps(int numInferenceSteps) {
        int numTrain = config.numTrainTimesteps();
        checkSteps(numInferenceSteps, numTrain);
        this.numInferenceSteps = numInferenceSteps;
        // diffusers' _timesteps: the spacing DDIM and the sigma-space schedulers write, ascending
        double[] base =
                TimestepSpacing.reverse(
                        TimestepSpacing.spacedTimesteps(config, numInferenceSteps, true));
        int n = base.length;
        List<Double> all = new ArrayList<>();
        if (config.skipPrkSteps()) {
            // for some models like stable diffusion the prk steps can/should be skipped to
            // produce better results. When using PNDM with `skip_prk_steps` the implementation
            // is based on crowsonkb's PLMS sampler implementation:
            // https://github.com/CompVis/latent-diffusion/pull/51
            prkTimesteps = new double[0];
            double[] plms = new double[n + 1];
            System.arraycopy(base, 0, plms, 0, n - 1);
            plms[n - 1] = base[n - 2 < 0 ? 0 : n - 2];
            plms[n] = base[n - 1];
            if (n < 2) {
                plms = new double[] {base[n - 1]};
            }
            for (int i = plms.length - 1; i >= 0; i--) {
                all.add(plms[i]);
            }
        } else {
            if (n < PNDM_ORDER) {
                throw new IllegalArgumentException(
                        "PNDMScheduler without skip_prk_steps needs num_inference_steps >= "
                                + PNDM_ORDER
                                + ", got "
                                + numInferenceSteps);
            }
            int half = numTrain / numInferenceSteps / 2;
            // np.array(_timesteps[-4:]).repeat(2) + np.tile([0, half], 4)
            double[] prk = new double[2 * PNDM_ORDER];
            for (int i = 0; i < PNDM_ORDER; i++) {
                prk[2 * i] = base[n - PNDM_ORDER + i];
                prk[2 * i + 1] = base[n - PNDM_ORDER + i] + half;
            }
            // (prk[:-1].repeat(2)[1:-1])[::-1]
            double[] rep = new double[2 * (prk.length - 1)];
            for (int i = 0; i < prk.length - 1; i++) {
                rep[2 * i] = prk[i];
                rep[2 * i + 1] = prk[i];
            }
            prkTimesteps = new double[rep.length - 2];
            for (int i = 0; i < prkTimesteps.length; i++) {
                prkTimesteps[i] = rep[rep.length - 2 - i];
            }
            for (double v : prkTimesteps) {
                all.add(v);
            }
            for (int i = n - 4; i >= 0; i--) {
                all.add(base[i]);
            }
        }
        timesteps =
                TimestepSpacing.toInt64(all.stream().mapToDouble(Double::doubleValue).toArray());
        resetHistory();
        counter = 0;
    }

    private void resetHistory() {
        for (NDArray e : ets) {
            drop(e);
        }
        ets.clear();
        drop(curModelOutput);
        curModelOutput = null;
        drop(curSample);
        curSample = null;
        clearHistory();
    }

    /** PRK or PLMS, by the step counter, as diffusers' {@code step}. */
    @Override
    protected SchedulerOutput doStep(
            NDArray modelOutput, double t, NDArray sample, NoiseSource noise) {
        int timestep = (int) t;
        if (timestep != t) {
            throw new IllegalArgumentException("PNDM timestep " + t + " is not an integer");
        }
        if (counter < prkTimesteps.length && !config.skipPrkSteps()) {
            return new SchedulerOutput(stepPrk(modelOutput, timestep, sample), null);
        }
        return new SchedulerOutput(stepPlms(modelOutput, timestep, sample), null);
    }

    // Port of diffusers scheduling_pndm.PNDMScheduler.step_prk
    private NDArray stepPrk(NDArray modelOutput, int timestep, NDArray sample) {
        int diffToPrev = counter % 2 != 0 ? 0 : config.numTrainTimesteps() / numInferenceSteps / 2;
        int prevTimestep = timestep - diffToPrev;
        timestep = (int) prkTimesteps[counter / 4 * 4];

        if (counter % 4 == 0) {
            curModelOutput = accumulate(curModelOutput, modelOutput, 1.0 / 6, sample);
            ets.add(keepCopy(modelOutput));
            drop(curSample);
            curSample = keepCopy(sample);
        } else if ((counter - 1) % 4 == 0) {
            curModelOutput = accumulate(curModelOutput, modelOutput, 1.0 / 3, sample);
        } else if ((counter - 2) % 4 == 0) {
            curModelOutput = accumulate(curModelOutput, modelOutput, 1.0 / 3, sample);
        } else if ((counter - 3) % 4 == 0) {
            modelOutput = plus(curModelOutput, modelOutput.mul((float) (1.0 / 6)));
            drop(curModelOutput);
            curModelOutput = null;
        }

        // cur_sample should not be `None`
        NDArray cur = curSample != null ? curSample : sample;
        NDArray prevSample = getPrevSample(cur, timestep, prevTimestep, modelOutput);
        counter += 1;
        return prevSample;
    }

    /** {@code cur_model_output += coeff * model_output}, kept as history. */
    private NDArray accumulate(NDArray cur, NDArray modelOutput, double coeff, NDArray like) {
        NDArray next = plus(cur, modelOutput.mul((float) coeff));
        drop(cur);
        return keep(next, like);
    }

    private static NDArray plus(NDArray curOrNull, NDArray term) {
        // diffusers starts cur_model_output at the int 0: 0 + x == x exactly
        return curOrNull == null ? term : curOrNull.add(term);
    }

    // Port of diffusers scheduling_pndm.PNDMScheduler.step_plms
    private NDArray stepPlms(NDArray modelOutput, int timestep, NDArray sample) {
        if (!config.skipPrkSteps() && ets.size() < 3) {
            throw new IllegalStateException(
                    "PNDMScheduler can only be run AFTER scheduler has been run in 'prk' mode for"
                            + " at least 12 iterations");
        }
        int prevTimestep = timestep - config.numTrainTimesteps() / numInferenceSteps;

        if (counter != 1) {
            while (ets.size() > 3) {
                drop(ets.remove(0));
            }
            ets.add(keepCopy(modelOutput));
        } else {
            prevTimestep = timestep;
            timestep = timestep + config.numTrainTimesteps() / numInferenceSteps;
        }

        int n = ets.size();
        NDArray usedCurSample = null;
        if (n == 1 && counter == 0) {
            drop(curSample);
            curSample = keepCopy(sample);
        } else if (n == 1 && counter == 1) {
            modelOutput = modelOutput.add(ets.get(n - 1)).div(2f);
            sample = curSample;
            usedCurSample = curSample;
            curSample = null;
        } else if (n == 2) {
            modelOutput = ets.get(n - 1).mul(3f).sub(ets.get(n - 2)).div(2f);
        } else if (n == 3) {
            modelOutput =
                    ets.get(n - 1)
                            .mul(23f)
                            .sub(ets.get(n - 2).mul(16f))
                            .add(ets.get(n - 3).mul(5f))
                            .div(12f);
        } else {
            modelOutput =
                    ets.get(n - 1)
                            .mul(55f)
                            .sub(ets.get(n - 2).mul(59f))
                            .add(ets.get(n - 3).mul(37f))
                            .sub(ets.get(n - 4).mul(9f))
                            .mul((float) (1.0 / 24));
        }

        NDArray prevSample = getPrevSample(sample, timestep, prevTimestep, modelOutput);
        drop(usedCurSample);
        counter += 1;
        return prevSample;
    }

    // Port of diffusers scheduling_pndm.PNDMScheduler._get_prev_sample
    private NDArray getPrevSample(
            NDArray sample, int timestep, int prevTimestep, NDArray modelOutput) {
        // See formula (9) of PNDM paper https://huggingface.co/papers/2202.09778
        // this function computes x_(t−δ) using the formula of (9)
        // Note that x_t needs to be added to both sides of the equation
        float alphaProdT = alphasCumprod[timestep];
        float alphaProdTPrev = prevTimestep >= 0 ? alphasCumprod[prevTimestep] : finalAlphaCumprod;
        float betaProdT = 1 - alphaProdT;
        float betaProdTPrev = 1 - alphaProdTPrev;

        if (config.predictionType().equals("v_prediction")) {
            modelOutput =
                    modelOutput
                            .mul(ScheduleMath.sqrt(alphaProdT))
                            .add(sample.mul(ScheduleMath.sqrt(betaProdT)));
        }

        // corresponds to (α_(t−δ) - α_t) divided by
        // denominator of x_t in formula (9) and plus 1
        float sampleCoeff = ScheduleMath.sqrt(alphaProdTPrev / alphaProdT);

        // corresponds to denominator of e_θ(x_t, t) in formula (9)
        float modelOutputDenomCoeff =
                alphaProdT * ScheduleMath.sqrt(betaProdTPrev)
                        + ScheduleMath.sqrt(alphaProdT * betaProdT * alphaProdTPrev);

        // full formula (9)
        return sample.mul(sampleCoeff)
                .sub(modelOutput.mul(alphaProdTPrev - alphaProdT).div(modelOutputDenomCoeff));
    }

    // Port of diffusers scheduling_pndm.PNDMScheduler.add_noise
    @Override
    public NDArray addNoise(NDArray originalSamples, NDArray noise, double t) {
        return addNoiseAlphaSpace(alphasCumprod, originalSamples, noise, t);
    }
}
