package sdbatch.pipeline.models.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdbatch.pipeline.models.blocks.Attention;
import sdbatch.pipeline.testing.FloatArrays;
import sdbatch.pipeline.testing.TestCompute;

/** libtorch's fused attention, reached through the Java-built TorchScript module. */
class ScaledDotProductAttentionTest {

    @AfterEach
    void restore() {
        TestCompute.reset();
    }

    @ParameterizedTest(name = "{0} heads, {1} queries, {2} keys, width {3}")
    @CsvSource({
        "6, 37, 37, 8",
        "16, 64, 77, 40",
        "4, 300, 300, 80",
        "1, 1, 5, 3",
        "1, 1024, 1024, 512", // the VAE's single 512-wide head
        "2, 130, 130, 256"
    })
    void fusedEqualsTheNDArrayFormula(int n, int lq, int lk, int d) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray q = m.randomNormal(new Shape(n, lq, d));
            NDArray k = m.randomNormal(new Shape(n, lk, d));
            NDArray v = m.randomNormal(new Shape(n, lk, d));
            double scale = 1 / Math.sqrt(d);
            assertTrue(
                    ScaledDotProductAttention.usable(q),
                    "fused path unavailable: " + ScaledDotProductAttention.unavailableReason());
            NDArray fused = ScaledDotProductAttention.apply(q, k, v, scale);
            NDArray direct = q.matMul(k.transpose(0, 2, 1)).mul(scale).softmax(2).matMul(v);
            assertEquals(direct.getShape(), fused.getShape());
            assertClose(direct.toFloatArray(), fused.toFloatArray());
            // And through Attention.attend, which picks it for float32.
            assertArrayEquals(
                    fused.toFloatArray(),
                    Attention.attend(q, k, v, scale, false).toFloatArray(),
                    0f);
        }
    }

    @Test
    void headsWiderThanTheVaesKeepTheChunkedPath() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(ScaledDotProductAttention.usable(m.zeros(new Shape(1, 4, 256))));
            assertTrue(ScaledDotProductAttention.usable(m.zeros(new Shape(1, 4, 512))));
            assertFalse(ScaledDotProductAttention.usable(m.zeros(new Shape(1, 4, 1024))));
            assertFalse(
                    ScaledDotProductAttention.usable(
                            m.zeros(new Shape(1, 4, 64), DataType.FLOAT16)));
        }
    }

    @ParameterizedTest(name = "disabled: {0}")
    @CsvSource({"true", "false"})
    void resultsAreRegisteredInTheCallersScope(boolean enabled) {
        TestCompute.set(o -> o.withFusedAttention(enabled));
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray q = m.randomNormal(new Shape(2, 9, 4));
            NDArray out;
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                out = Attention.attend(q, q, q, 0.5, false);
                assertEquals(DataType.FLOAT32, out.getDataType());
            }
            assertTrue(out.isReleased(), "the scope frees the attention output");
            assertNull(ScaledDotProductAttention.unavailableReason());
        }
    }

    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        // Spark runs several tasks per executor JVM, all calling the one shared module.
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray[] qs = {
                m.randomNormal(new Shape(4, 50, 8)), m.randomNormal(new Shape(8, 33, 16))
            };
            float[][] want = new float[2][];
            for (int i = 0; i < 2; i++) {
                NDArray q = qs[i];
                want[i] =
                        q.matMul(q.transpose(0, 2, 1)).mul(0.3).softmax(2).matMul(q).toFloatArray();
            }
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try {
                List<Future<Boolean>> done = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    int which = i;
                    done.add(
                            pool.submit(
                                    () -> {
                                        for (int r = 0; r < 25; r++) {
                                            try (NDScope s = new NDScope()) {
                                                s.suppressNotUsedWarning();
                                                NDArray q = qs[which];
                                                assertClose(
                                                        want[which],
                                                        Attention.attend(q, q, q, 0.3, false)
                                                                .toFloatArray());
                                            }
                                        }
                                        return true;
                                    }));
                }
                for (Future<Boolean> f : done) {
                    assertTrue(f.get(60, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void attentionLayersGiveTheSameResultThroughHeadViewsAsThroughSplitHeads() {
        try (NDManager m = NDManager.newBaseManager()) {
            sdbatch.pipeline.weights.RandomWeights w =
                    new sdbatch.pipeline.weights.RandomWeights(4, m);
            Attention self =
                    new Attention(w.prefix("a1"), 64, 64, 4, 16, false, false, 0, 1e-6, false, 1);
            Attention cross =
                    new Attention(w.prefix("a2"), 64, 24, 4, 16, false, false, 0, 1e-6, false, 1);
            NDArray x = m.randomNormal(new Shape(2, 50, 64));
            NDArray context = m.randomNormal(new Shape(2, 7, 24));
            NDArray[] fused = {self.forward(x, null), cross.forward(x, context)};
            TestCompute.set(o -> o.withFusedAttention(false));
            NDArray[] split = {self.forward(x, null), cross.forward(x, context)};
            for (int i = 0; i < 2; i++) {
                assertEquals(split[i].getShape(), fused[i].getShape());
                assertClose(split[i].toFloatArray(), fused[i].toFloatArray());
            }
        }
    }

    /**
     * The fused kernel and the NDArray formula sum in different orders, and how libtorch splits the
     * work depends on the CPU and on how many threads are busy (CI's host gave 3.74906 for
     * 3.7490623 with two callers at once). So the bound grows with the value (4e-6 of it, some 20
     * float32 ulps): a caller handed another caller's result would be off by whole units.
     */
    private static void assertClose(float[] want, float[] got) {
        FloatArrays.assertAllClose(want, got, 2e-6, 4e-6);
    }
}
