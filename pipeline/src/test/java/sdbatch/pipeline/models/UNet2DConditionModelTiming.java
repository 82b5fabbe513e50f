package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * Times one UNet forward on tiny-sd1 at its golden shape (unet0: 2×4×32×32). A measurement, not a
 * test: runs only with {@code -Dsdbatch.timing=true}.
 */
@EnabledIfSystemProperty(named = "sdbatch.timing", matches = "true")
class UNet2DConditionModelTiming {
    @Test
    void timeOneForward() throws Exception {
        Path golden = SharedData.golden();
        try (NDManager m = NDManager.newBaseManager();
                UNet2DConditionModel unet =
                        UNet2DConditionModel.load(
                                golden.resolve("tiny-sd1/unet"), m, DataType.FLOAT32);
                SafetensorsFile f = GoldenComponents.open(golden, "tiny-sd1")) {
            NDArray sample = GoldenComponents.tensor(f, "unet0/sample", m);
            NDArray t = GoldenComponents.tensor(f, "unet0/timestep", m);
            NDArray ehs = GoldenComponents.tensor(f, "unet0/encoder_hidden_states", m);
            for (int i = 0; i < 3; i++) {
                unet.forward(sample, t, ehs).close();
            }
            int n = 10;
            long[] ns = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                unet.forward(sample, t, ehs).close();
                ns[i] = System.nanoTime() - t0;
            }
            java.util.Arrays.sort(ns);
            System.out.printf(
                    "UNet tiny-sd1 forward %s on %s: median %.1f ms, min %.1f ms (%d runs)%n",
                    sample.getShape(), unet.device(), ns[n / 2] / 1e6, ns[0] / 1e6, n);
        }
    }
}
