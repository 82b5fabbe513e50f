package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Invents a deterministic random tensor for every parameter a model asks for, and can save them as
 * the component's safetensors file: the tiny model factory builds a model on this source, so the
 * saved keys and shapes are by construction exactly the ones the loader will ask for.
 *
 * <p>Values depend only on the seed and the key, not on the order of the asks. Matrices and kernels
 * are N(0, 1/fan_in) so activations keep their scale through deep stacks; 1-D weights (norm gains)
 * are 1 + N(0, 0.1²) and biases N(0, 0.1²), so no parameter is a constant and a swapped tensor
 * shows in the outputs.
 */
public final class RandomWeights implements Weights {
    private final long seed;
    private final NDManager manager;
    private final DataType dtype;
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    /** Float32 weights in {@code manager}. */
    public RandomWeights(long seed, NDManager manager) {
        this(seed, manager, DataType.FLOAT32);
    }

    /**
     * Weights in {@code manager}, converted to {@code dtype} (drawn in float32; {@link #save}
     * always writes the float32 values).
     */
    public RandomWeights(long seed, NDManager manager, DataType dtype) {
        this.seed = seed;
        this.manager = manager;
        this.dtype = dtype;
    }

    @Override
    public NDArray get(String key, Shape expected) {
        // Values are a function of (seed, key) alone, so they are drawn again when saved instead of
        // being kept: an SD 1.5-shaped UNet would otherwise hold 3.4 GB of float[] on the heap.
        long[] known = shapes.putIfAbsent(key, expected.getShape());
        Shape shape = known == null ? expected : new Shape(known);
        NDArray a = manager.create(draw(key, shape), shape);
        if (a.getDataType() == dtype) {
            return a;
        }
        NDArray cast = a.toType(dtype, false);
        a.close();
        return cast;
    }

    private float[] draw(String key, Shape shape) {
        int n = Math.toIntExact(shape.size());
        SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ mix(key));
        float[] out = new float[n];
        boolean vector = shape.dimension() <= 1;
        boolean bias = key.endsWith("bias");
        double scale;
        double offset;
        if (vector) {
            scale = 0.1;
            offset = bias ? 0 : 1;
        } else {
            long fanIn = shape.size() / shape.get(0);
            scale = 1.0 / Math.sqrt(Math.max(1, fanIn));
            offset = 0;
        }
        if (key.endsWith("embedding.weight") || key.endsWith("embeddings.weight")) {
            scale = 0.5; // token and position tables: unit-ish vectors, not fan-in scaled rows
            offset = 0;
        }
        for (int i = 0; i < n; i++) {
            out[i] = (float) (offset + scale * gaussian(rnd));
        }
        return out;
    }

    private static double gaussian(SplittableRandom rnd) {
        // Box-Muller; SplittableRandom has no nextGaussian in Java 17.
        double u1 = 1.0 - rnd.nextDouble();
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static long mix(String key) {
        long h = 1125899906842597L;
        for (int i = 0; i < key.length(); i++) {
            h = 31 * h + key.charAt(i);
        }
        return h;
    }

    @Override
    public boolean contains(String key) {
        return true;
    }

    @Override
    public Set<String> keys() {
        return new TreeSet<>(shapes.keySet());
    }

    /** Writes every tensor asked for so far, in the order asked, as one safetensors file. */
    public void save(Path file) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        shapes.forEach((k, s) -> w.addLazily(k, s, () -> draw(k, new Shape(s))));
        w.write(file);
    }
}
