package sdbatch.pipeline.noise;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;

/**
 * Noise for a batch with one torch CPU generator per image: diffusers' {@code randn_tensor(shape,
 * generator=[g_0, ..., g_{B-1}])}, which draws {@code torch.randn(shape[1:], generator=g_i)} for
 * each image in order and concatenates them. An image's noise therefore depends only on its own
 * seed and on the draws made before on its own generator, never on the batch around it.
 *
 * <p>Each call continues every generator's stream (ancestral and stochastic schedulers draw again
 * from the same per-image generators). Not thread-safe: one instance belongs to one generation run.
 * The generators are owned by this instance; pass fresh ones.
 */
public final class BatchNoise implements NoiseSource {

    private final TorchCpuGenerator[] generators;

    private BatchNoise(TorchCpuGenerator[] generators) {
        if (generators.length == 0) {
            throw new IllegalArgumentException("BatchNoise needs at least one generator, got 0");
        }
        for (int i = 0; i < generators.length; i++) {
            if (generators[i] == null) {
                throw new IllegalArgumentException("BatchNoise generator " + i + " is null");
            }
            for (int j = 0; j < i; j++) {
                if (generators[j] == generators[i]) {
                    // torch would interleave one stream across rows; diffusers' list semantics
                    // wants one stream per image, so sharing is almost surely a mistake.
                    throw new IllegalArgumentException(
                            "BatchNoise generators " + j + " and " + i + " are the same instance");
                }
            }
        }
        this.generators = generators;
    }

    /** One fresh generator per image, seeded like {@code torch.Generator("cpu").manual_seed}. */
    public static BatchNoise ofSeeds(long... seeds) {
        TorchCpuGenerator[] g = new TorchCpuGenerator[seeds.length];
        for (int i = 0; i < seeds.length; i++) {
            g[i] = new TorchCpuGenerator(seeds[i]);
        }
        return new BatchNoise(g);
    }

    /** Uses the given generators, one per image in batch order (distinct instances). */
    public static BatchNoise of(List<TorchCpuGenerator> generators) {
        return new BatchNoise(generators.toArray(new TorchCpuGenerator[0]));
    }

    /** The number of images (required first dimension of every shape). */
    public int batchSize() {
        return generators.length;
    }

    /** Image {@code i}'s generator (live: drawing from it advances this source's stream). */
    public TorchCpuGenerator generator(int i) {
        return generators[i];
    }

    /**
     * Draws noise of {@code shape} as a flat row-major float array: row {@code i} is {@code
     * generator(i).randn(numel(shape[1:]))}.
     *
     * @throws IllegalArgumentException if {@code shape[0]} is not {@link #batchSize()} or the shape
     *     is empty, negative or too large for one array
     */
    public float[] randnFloats(long[] shape) {
        if (shape.length == 0 || shape[0] != generators.length) {
            throw new IllegalArgumentException(
                    "noise shape "
                            + Arrays.toString(shape)
                            + " must have first dimension = batch size "
                            + generators.length
                            + " (one generator per image)");
        }
        long perImage = 1;
        for (int d = 1; d < shape.length; d++) {
            if (shape[d] < 0) {
                throw new IllegalArgumentException(
                        "noise shape " + Arrays.toString(shape) + " has a negative dimension");
            }
            perImage = Math.multiplyExact(perImage, shape[d]);
        }
        if (perImage * generators.length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "noise shape " + Arrays.toString(shape) + " is too large for one float array");
        }
        int n = (int) perImage;
        float[] out = new float[n * generators.length];
        for (int i = 0; i < generators.length; i++) {
            generators[i].randn(out, i * n, n);
        }
        return out;
    }

    @Override
    public NDArray randn(NDManager manager, Shape shape) {
        return manager.create(randnFloats(shape.getShape()), shape);
    }
}
