package sdbatch.pipeline.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** diffusers' {@code randn_tensor} with a list of generators, one per image. */
class BatchNoiseTest {

    /**
     * Row i is what a lone generator for seed i draws for one image, on the first call and on later
     * calls (a scheduler drawing step noise), whatever the batch around it.
     */
    @Test
    void eachRowIsItsOwnImagesStream() {
        long[] seeds = {5, 99, 5 + (1L << 40), -1};
        BatchNoise batch = BatchNoise.ofSeeds(seeds);
        TorchCpuGenerator[] lone = new TorchCpuGenerator[seeds.length];
        for (int i = 0; i < seeds.length; i++) {
            lone[i] = new TorchCpuGenerator(seeds[i]);
        }
        for (long[] shape : new long[][] {{4, 4, 8, 9}, {4, 3}, {4, 16}, {4, 2, 5}}) {
            float[] all = batch.randnFloats(shape);
            int n = all.length / seeds.length;
            for (int i = 0; i < seeds.length; i++) {
                assertArrayEquals(
                        lone[i].randn(n),
                        Arrays.copyOfRange(all, i * n, (i + 1) * n),
                        "row " + i + " of " + Arrays.toString(shape));
            }
        }
    }

    /** The same image gets the same noise alone or in a batch at another position. */
    @Test
    void batchingDoesNotChangeAnImagesNoise() {
        float[] alone = BatchNoise.ofSeeds(77).randnFloats(new long[] {1, 4, 6, 6});
        float[] batched = BatchNoise.ofSeeds(1, 2, 77).randnFloats(new long[] {3, 4, 6, 6});
        assertArrayEquals(alone, Arrays.copyOfRange(batched, 2 * 144, 3 * 144));
    }

    @Test
    void ndarrayHasTheShapeDtypeAndValues() {
        BatchNoise a = BatchNoise.ofSeeds(1, 2);
        BatchNoise b = BatchNoise.ofSeeds(1, 2);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = a.randn(manager, new Shape(2, 4, 3, 3));
            assertEquals(new Shape(2, 4, 3, 3), x.getShape());
            assertEquals(DataType.FLOAT32, x.getDataType());
            assertArrayEquals(b.randnFloats(new long[] {2, 4, 3, 3}), x.toFloatArray());
        }
    }

    @Test
    void wrongBatchDimensionIsRejected() {
        BatchNoise noise = BatchNoise.ofSeeds(1, 2);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> noise.randnFloats(new long[] {3, 4, 8, 8}));
        assertTrue(e.getMessage().contains("[3, 4, 8, 8]"), e.getMessage());
        assertTrue(e.getMessage().contains("batch size 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> noise.randnFloats(new long[0]));
        assertThrows(IllegalArgumentException.class, () -> noise.randnFloats(new long[] {2, -1}));
    }

    @Test
    void generatorsMustBeDistinctAndPresent() {
        TorchCpuGenerator g = new TorchCpuGenerator(1);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> BatchNoise.of(List.of(g, g)));
        assertTrue(e.getMessage().contains("same instance"), e.getMessage());
        assertThrows(IllegalArgumentException.class, BatchNoise::ofSeeds);
        assertEquals(2, BatchNoise.of(List.of(g, new TorchCpuGenerator(1))).batchSize());
    }
}
