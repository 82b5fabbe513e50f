package sdbatch.pipeline.schedulers;

import java.util.Arrays;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * The inference timesteps of diffusers' schedulers ({@code timestep_spacing} {@code linspace},
 * {@code leading}, {@code trailing}) and the numpy primitives they are written in, in float64 as
 * numpy computes them.
 */
final class TimestepSpacing {
    private TimestepSpacing() {}

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
}
