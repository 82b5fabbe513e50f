package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.testing.TestCompute;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * 50 UNet forward passes on the tiny model: the number of live native arrays is the same after
 * every pass and the process's resident memory does not grow after warm-up.
 */
class UNet2DConditionModelMemoryTest {
    private static final int PASSES = 50;
    private static final int WARMUP = 10;

    /**
     * One pass's leaked intermediates would be tens of MiB (2 GB over the run); allow allocator
     * noise only. Measured: ±10 MiB of VmRSS jitter after a GC in float32; with bf16 a one-off step
     * of 12–20 MiB (heap growth; 400 passes in a scratch run grew 0.7 MiB before and 0.3 MiB after
     * it, the same as float32).
     */
    private static final long RSS_SLACK_KIB = 48 * 1024;

    @AfterEach
    void fp32() {
        TestCompute.reset();
    }

    @ParameterizedTest(name = "bf16 {0}")
    @ValueSource(booleans = {false, true})
    void nativeMemoryStaysFlatOverFiftyForwardPasses(boolean bf16) throws Exception {
        Path golden = SharedData.golden();
        // bf16: every call also passes weights and activations through TorchScript module calls
        // (IValues that must be closed), and the first pass makes each layer's prepacked weights.
        TestCompute.set(o -> o.withBf16(bf16));
        try (NDManager root = NDManager.newBaseManager();
                UNet2DConditionModel unet =
                        UNet2DConditionModel.load(
                                golden.resolve("tiny-sd1/unet"), root, DataType.FLOAT32);
                SafetensorsFile f = GoldenComponents.open(golden, "tiny-sd1");
                NDManager inputs = root.newSubManager()) {
            // A 16x16 crop of a reference sample keeps 50 passes to a few seconds.
            NDArray sample =
                    GoldenComponents.tensor(f, "unet1/sample", inputs).get(":, :, :16, :16");
            NDArray t = GoldenComponents.tensor(f, "unet1/timestep", inputs);
            NDArray ehs = GoldenComponents.tensor(f, "unet1/encoder_hidden_states", inputs);
            int arraysBefore = root.getManagedArrays().size();
            long rssAfterWarmup = 0;
            for (int i = 0; i < PASSES; i++) {
                NDArray out = unet.forward(sample, t, ehs);
                assertEquals(sample.getShape(), out.getShape());
                out.close();
                assertEquals(
                        arraysBefore,
                        root.getManagedArrays().size(),
                        "live arrays changed after pass " + i);
                if (i == WARMUP - 1) {
                    rssAfterWarmup = rssKib();
                }
            }
            long rssEnd = rssKib();
            System.out.printf(
                    "UNet memory (bf16 %s): %d arrays live; VmRSS after warm-up %d KiB, after %d"
                            + " passes %d KiB%n",
                    bf16, arraysBefore, rssAfterWarmup, PASSES, rssEnd);
            if (rssAfterWarmup > 0) {
                assertTrue(
                        rssEnd - rssAfterWarmup < RSS_SLACK_KIB,
                        "VmRSS grew by " + (rssEnd - rssAfterWarmup) + " KiB over " + PASSES);
            }
        }
    }

    /**
     * VmRSS from /proc/self/status (Linux), or 0 where there is none, after a GC: RSS includes the
     * Java heap, whose uncollected garbage (DJL's per-op wrappers) would otherwise look like
     * growth.
     */
    static long rssKib() throws IOException {
        System.gc();
        Path status = Path.of("/proc/self/status");
        if (!Files.isReadable(status)) {
            return 0;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
