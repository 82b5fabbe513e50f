package sdbatch.pipeline.schedulers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** diffusers' {@code tests/schedulers/test_schedulers.py} fixtures, in DJL. */
final class Dummies {
    private Dummies() {}

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
        return m.create(v).reshape(shape).transpose(perm).duplicate();
    }

    /** {@code dummy_model}: {@code sample * t / (t + 1)} with t as float32. */
    static NDArray model(NDArray sample, double t) {
        float tf = (float) t;
        return sample.mul(tf).div(tf + 1f);
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
