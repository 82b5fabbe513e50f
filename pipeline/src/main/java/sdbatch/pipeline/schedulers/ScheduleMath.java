package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * The tensor steps diffusers' scheduler files share: the data prediction of the multistep solvers,
 * DDIM's and DDPM's x0 with clipping or dynamic thresholding, and torch's float32 square root.
 * Beside it, what else the files share, each with its numpy/torch dtypes (torch schedule tensors
 * float32, numpy arrays float64): {@link NoiseSchedule} (betas, alphas_cumprod), {@link
 * TimestepSpacing} (inference timesteps) and {@link SigmaSchedules} (sigmas). Each method names the
 * diffusers code it ports; scheduler-specific logic stays in its scheduler's file.
 */
final class ScheduleMath {
    private ScheduleMath() {}

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
