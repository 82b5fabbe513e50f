package sdbatch.pipeline.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * libtorch's own throughput on this machine for the two kernels a UNet is made of — a large matmul
 * and a UNet-sized 3×3 convolution — and the cost of the cheapest possible native call. These are
 * the floor a model's GFLOP/s is compared with (the report's {@code floor}, {@code floor_end} and
 * {@code adjacent_floor_gflops}).
 */
final class LibtorchThroughput {
    private LibtorchThroughput() {}

    /** {@code matmul_gflops} (2048² · 2048²) and {@code conv_gflops} (320→320, 3×3, 64×64). */
    static JsonObject measure(NDManager manager, DataType dtype, int runs) {
        JsonObject o = new JsonObject();
        try (Adjacent ops = new Adjacent(manager, dtype)) {
            double mm = median(runs, ops::matmul);
            double conv = median(runs, ops::conv);
            o.addProperty("matmul_gflops", BenchRun.round(Adjacent.MATMUL_FLOP / 1e9 / mm, 1));
            o.addProperty("conv_gflops", BenchRun.round(Adjacent.CONV_FLOP / 1e9 / conv, 1));
            o.addProperty("matmul_seconds", BenchRun.round(mm, 5));
            o.addProperty("conv_seconds", BenchRun.round(conv, 5));
        }
        return o;
    }

    /**
     * The floor measured again right next to each timed model call: this machine's speed can swing
     * by 2× within minutes, so a ratio to a floor measured minutes earlier says more about the host
     * than about the model. One matmul and one convolution as in {@link #measure}, the faster of
     * the two as GFLOP/s (about 0.1 s on 2 cores).
     */
    static final class Adjacent implements AutoCloseable {
        static final double MATMUL_FLOP = 2.0 * 2048 * 2048 * 2048;
        static final double CONV_FLOP = 2.0 * 320 * 320 * 9 * 64 * 64;

        private final NDManager m;
        private final NDArray a;
        private final NDArray b;
        private final NDArray x;
        private final NDArray w;
        private final NDArray bias;

        Adjacent(NDManager manager, DataType dtype) {
            m = manager.newSubManager();
            a = random(m, new Shape(2048, 2048), 11).toType(dtype, false);
            b = random(m, new Shape(2048, 2048), 12).toType(dtype, false);
            x = random(m, new Shape(1, 320, 64, 64), 13).toType(dtype, false);
            w = random(m, new Shape(320, 320, 3, 3), 14).mul(0.02).toType(dtype, false);
            bias = random(m, new Shape(320), 15).toType(dtype, false);
        }

        /** The 2048² · 2048² matmul. */
        NDArray matmul() {
            return a.matMul(b);
        }

        /** The 320→320, 3×3, 64×64 convolution. */
        NDArray conv() {
            Shape one = new Shape(1, 1);
            return ai.djl.nn.convolutional.Conv2d.conv2d(x, w, bias, one, one, one, 1)
                    .singletonOrThrow();
        }

        /** The better of libtorch's matmul and conv throughput now, GFLOP/s. */
        double gflops() {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                long t0 = System.nanoTime();
                matmul();
                long t1 = System.nanoTime();
                conv();
                long t2 = System.nanoTime();
                return Math.max(MATMUL_FLOP / (t1 - t0), CONV_FLOP / (t2 - t1));
            }
        }

        @Override
        public void close() {
            m.close();
        }
    }

    /**
     * Microseconds per {@code add} of two one-element arrays, result closed: a JNI crossing, an
     * allocation and DJL's wrapper and bookkeeping, with no arithmetic to speak of.
     */
    static double trivialOpMicros(NDManager manager, int iterations) {
        try (NDManager m = manager.newSubManager()) {
            NDArray one = m.ones(new Shape(1));
            for (int i = 0; i < iterations / 10; i++) {
                one.add(one).close();
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                one.add(one).close();
            }
            return (System.nanoTime() - t0) / 1e3 / iterations;
        }
    }

    private static double median(int runs, java.util.function.Supplier<NDArray> op) {
        try (NDScope warm = new NDScope()) {
            warm.suppressNotUsedWarning();
            op.get();
        }
        double[] s = new double[runs];
        for (int i = 0; i < runs; i++) {
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                long t0 = System.nanoTime();
                op.get();
                s[i] = (System.nanoTime() - t0) / 1e9;
            }
        }
        Arrays.sort(s);
        return s[runs / 2];
    }

    /** Standard-normal float32 values from a fixed seed (no engine-global randomness). */
    static NDArray random(NDManager m, Shape shape, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i += 2) {
            double u1 = 1.0 - rnd.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            double th = 2 * Math.PI * rnd.nextDouble();
            v[i] = (float) (r * Math.cos(th));
            if (i + 1 < v.length) {
                v[i + 1] = (float) (r * Math.sin(th));
            }
        }
        return m.create(v, shape);
    }
}
