package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** diffusers' {@code tests/schedulers/test_schedulers.py} fixtures, in DJL. */
final class DiffusersFixtures {
    private DiffusersFixtures() {}

    /**
     * {@code dummy_sample_deter}: {@code arange(n).reshape(channels, height, width, batch) / n}
     * permuted to (batch, channels, height, width), with batch 4, channels 3, 8×8 (or, for the 1-D
     * variant, {@code dims = {8}}).
     */
    static NDArray sampleDeter(NDManager m, long... spatial) {
        long[] dims = spatial.length == 0 ? new long[] {8, 8} : spatial;
        long batch = 4;
        long channels = 3;
        long n = batch * channels;
        for (long d : dims) {
            n *= d;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < n; i++) {
            // torch: int64 tensor / int -> float32 true division
            v[i] = (float) i / (float) n;
        }
        long[] shape = new long[dims.length + 2];
        shape[0] = channels;
        System.arraycopy(dims, 0, shape, 1, dims.length);
        shape[shape.length - 1] = batch;
        int[] perm = new int[shape.length];
        perm[0] = shape.length - 1;
        for (int i = 1; i < perm.length; i++) {
            perm[i] = i - 1;
        }
        try (NDArray flat = m.create(v);
                NDArray r = flat.reshape(shape);
                NDArray p = r.transpose(perm)) {
            return p.duplicate();
        }
    }

    /** {@code dummy_model}: {@code sample * t / (t + 1)} with t as float32. */
    static NDArray model(NDArray sample, double t) {
        float tf = (float) t;
        try (NDArray st = sample.mul(tf)) {
            return st.div(tf + 1f);
        }
    }

    /**
     * diffusers' full loop without input scaling (DDIM, PNDM, DPM, UniPC tests): {@code residual =
     * model(sample, t); sample = step(residual, t, sample)}; returns sum and mean of |sample|.
     * Intermediates are closed as the loop goes.
     */
    static double[] plainLoop(Scheduler s, int steps, long... spatial) {
        return loop(s, steps, false, null, spatial);
    }

    /**
     * diffusers' full loop of the sigma schedulers (LMS, Euler, Heun): {@code sample =
     * dummy_sample_deter * init_noise_sigma}, then scale_model_input, model, step.
     */
    static double[] scaledLoop(Scheduler s, int steps) {
        return loop(s, steps, true, null);
    }

    static double[] loop(
            Scheduler s,
            int steps,
            boolean scaled,
            sdbatch.pipeline.noise.NoiseSource noise,
            long... spatial) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray sample = runLoop(m, s, steps, scaled, noise, spatial);
            return sumMean(sample);
        }
    }

    /** Runs the loop in {@code m}, closing every intermediate; returns the final sample. */
    static NDArray runLoop(
            NDManager m,
            Scheduler s,
            int steps,
            boolean scaled,
            sdbatch.pipeline.noise.NoiseSource noise,
            long... spatial) {
        s.setTimesteps(steps);
        NDArray sample = sampleDeter(m, spatial);
        if (scaled) {
            NDArray x = sample.mul(s.initNoiseSigma());
            sample.close();
            sample = x;
        }
        for (double t : s.timesteps()) {
            NDArray in = scaled ? s.scaleModelInput(sample, t) : sample;
            NDArray out = model(in, t);
            SchedulerOutput o = s.step(out, t, in, noise);
            if (in != sample) {
                in.close();
            }
            out.close();
            sample.close();
            if (o.predOriginalSample() != null) {
                o.predOriginalSample().close();
            }
            sample = o.prevSample();
        }
        return sample;
    }

    /**
     * {@code generator = torch.manual_seed(seed)} passed to every {@code step}: one generator whose
     * stream continues across the steps, each draw one {@code torch.randn(shape, generator=g)}.
     */
    static sdbatch.pipeline.noise.NoiseSource torchManualSeed(long seed) {
        sdbatch.pipeline.noise.TorchCpuGenerator g =
                new sdbatch.pipeline.noise.TorchCpuGenerator(seed);
        return (manager, shape) -> manager.create(g.randn((int) shape.size()), shape);
    }

    /** {@code torch.sum(torch.abs(sample))} and {@code torch.mean(torch.abs(sample))}. */
    static double[] sumMean(NDArray sample) {
        try (NDArray abs = sample.abs();
                NDArray sum = abs.sum();
                NDArray mean = abs.mean()) {
            return new double[] {sum.getFloat(), mean.getFloat()};
        }
    }
}
