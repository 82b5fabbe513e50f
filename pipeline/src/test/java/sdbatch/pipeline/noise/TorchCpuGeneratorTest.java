package sdbatch.pipeline.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Properties of {@link TorchCpuGenerator} that follow from torch's source (cited per test); the
 * values themselves are checked against torch in {@link TorchNoiseGoldenTest}.
 */
class TorchCpuGeneratorTest {

    /**
     * C++ [rand.predef]: the 10000th output of a default-constructed std::mt19937 (seed 5489) is
     * 4123659995. at::mt19937's default seed is 5489 as well.
     */
    @Test
    void mt19937MatchesTheCppStandardCheckValue() {
        TorchCpuGenerator g = new TorchCpuGenerator(5489);
        long last = 0;
        for (int i = 0; i < 10000; i++) {
            last = g.random();
        }
        assertEquals(4123659995L, last);
    }

    /** CPUGeneratorImpl::random64: the first 32-bit draw is the high half. */
    @Test
    void random64IsTwoDrawsHighFirst() {
        TorchCpuGenerator a = new TorchCpuGenerator(1234);
        TorchCpuGenerator b = new TorchCpuGenerator(1234);
        for (int i = 0; i < 1000; i++) {
            long hi = b.random();
            long lo = b.random();
            assertEquals((hi << 32) | lo, a.random64());
        }
    }

    @Test
    void sameSeedGivesSameNoise() {
        for (int n : new int[] {1, 7, 16, 100, 4096}) {
            assertArrayEquals(
                    new TorchCpuGenerator(42).randn(n),
                    new TorchCpuGenerator(42).randn(n),
                    "n=" + n);
        }
        assertFalse(
                java.util.Arrays.equals(
                        new TorchCpuGenerator(42).randn(64), new TorchCpuGenerator(43).randn(64)));
    }

    /**
     * manual_seed (CPUGeneratorImpl::set_current_seed) restarts mt19937 and drops the cached normal
     * sample, so a re-seeded generator repeats a fresh one's sequence of calls.
     */
    @Test
    void reseedingRepeatsTheSequence() {
        TorchCpuGenerator g = new TorchCpuGenerator(7);
        float[] a1 = g.randn(3); // odd small draw: leaves a cached sin value
        float[] a2 = g.randn(100);
        float[] a3 = g.randn(5);
        g.manualSeed(7);
        assertArrayEquals(a1, g.randn(3));
        assertArrayEquals(a2, g.randn(100));
        assertArrayEquals(a3, g.randn(5));
        assertEquals(7, g.initialSeed());
    }

    /**
     * torch's at::mt19937::init_with_uint32 uses seed & 0xffffffff: seeds differing only above bit
     * 31 give the same stream (the golden file checks this against torch too).
     */
    @Test
    void onlyTheLow32BitsOfTheSeedMatter() {
        long seed = 123456789L;
        float[] base = new TorchCpuGenerator(seed).randn(300);
        assertArrayEquals(base, new TorchCpuGenerator(seed + (1L << 32)).randn(300));
        assertArrayEquals(base, new TorchCpuGenerator(seed | Long.MIN_VALUE).randn(300));
        assertEquals(
                seed | Long.MIN_VALUE, new TorchCpuGenerator(seed | Long.MIN_VALUE).initialSeed());
        assertFalse(java.util.Arrays.equals(base, new TorchCpuGenerator(seed + 1).randn(300)));
    }

    /**
     * normal_fill chunks of 16 depend only on their own 16 uniforms, so for sizes that are
     * multiples of 16, two calls equal one; with a partial chunk torch draws 16 extra uniforms, so
     * they do not, and the stream advances by n + 16.
     */
    @Test
    void normalFillChunkingAndStreamAdvance() {
        TorchCpuGenerator split = new TorchCpuGenerator(3);
        float[] first = split.randn(32);
        float[] second = split.randn(48);
        float[] whole = new TorchCpuGenerator(3).randn(80);
        assertArrayEquals(whole, concat(first, second));

        // 20 elements: 20 uniforms then 16 more for the recomputed tail: 36 draws in all.
        TorchCpuGenerator g = new TorchCpuGenerator(3);
        g.randn(20);
        TorchCpuGenerator ref = new TorchCpuGenerator(3);
        for (int i = 0; i < 36; i++) {
            ref.random();
        }
        assertEquals(ref.random(), g.random());

        // ... and the first 16 values are overwritten only where the tail reaches (from index 4).
        float[] twenty = new TorchCpuGenerator(3).randn(20);
        float[] sixteen = new TorchCpuGenerator(3).randn(16);
        assertArrayEquals(java.util.Arrays.copyOf(sixteen, 4), java.util.Arrays.copyOf(twenty, 4));
        assertNotEquals(sixteen[4], twenty[4]);
    }

    /**
     * Below 16 elements torch draws per element from normal_distribution<double>, caching the
     * second Box-Muller value in the generator across calls, so small draws split freely: 3 then 1
     * equals 4. The cache survives an intervening normal_fill call, which never touches it.
     */
    @Test
    void smallDrawsShareTheCachedBoxMullerValue() {
        float[] four = new TorchCpuGenerator(11).randn(4);
        TorchCpuGenerator g = new TorchCpuGenerator(11);
        assertArrayEquals(four, concat(g.randn(3), g.randn(1)));

        TorchCpuGenerator h = new TorchCpuGenerator(11);
        float[] pair = h.randn(2);
        TorchCpuGenerator k = new TorchCpuGenerator(11);
        float a = k.randn(1)[0];
        // normal_fill consumes 32-bit draws but leaves the cached sine alone: after it, k's next
        // small draw is the cached value, not a new pair.
        k.randn(16);
        float b = k.randn(1)[0];
        assertEquals(pair[0], a);
        assertEquals(pair[1], b);
    }

    @Test
    void samplesLookStandardNormal() {
        float[] x = new TorchCpuGenerator(2024).randn(200_000);
        double sum = 0;
        double sq = 0;
        for (float v : x) {
            assertTrue(Float.isFinite(v));
            sum += v;
            sq += (double) v * v;
        }
        double mean = sum / x.length;
        double var = sq / x.length - mean * mean;
        assertEquals(0, mean, 0.01);
        assertEquals(1, var, 0.01);
    }

    @Test
    void badArgumentsAreRejectedWithTheirValues() {
        TorchCpuGenerator g = new TorchCpuGenerator(0);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> g.randn(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.randn(new float[10], 5, 6));
        assertTrue(e.getMessage().contains("length 10"), e.getMessage());
        assertEquals(0, g.randn(0).length);
    }

    /** Independent instances on several threads give the same values as one thread. */
    @Test
    void independentGeneratorsAreThreadSafe() throws Exception {
        int threads = 8;
        int[] sizes = {5, 1024, 3, 200, 16, 1};
        List<float[]> sequential = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            sequential.add(drawAll(new TorchCpuGenerator(1000 + t), sizes));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            for (int round = 0; round < 5; round++) {
                List<Future<float[]>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long seed = 1000 + t;
                    futures.add(pool.submit(() -> drawAll(new TorchCpuGenerator(seed), sizes)));
                }
                for (int t = 0; t < threads; t++) {
                    assertArrayEquals(sequential.get(t), futures.get(t).get(), "thread " + t);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static float[] drawAll(TorchCpuGenerator g, int[] sizes) {
        float[] out = new float[0];
        for (int n : sizes) {
            out = concat(out, g.randn(n));
        }
        return out;
    }

    static float[] concat(float[] a, float[] b) {
        float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
