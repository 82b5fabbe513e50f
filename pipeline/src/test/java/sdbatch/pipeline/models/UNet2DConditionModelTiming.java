package sdbatch.pipeline.models;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import sdbatch.pipeline.testing.SharedData;

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
                GoldenComponents.GoldenUnet goldenUnet =
                        GoldenComponents.GoldenUnet.load(golden, "tiny-sd1", m)) {
            GoldenComponents.UnetInputs in = goldenUnet.inputs("unet0", m);
            for (int i = 0; i < 3; i++) {
                goldenUnet.forward(in).close();
            }
            int n = 10;
            long[] ns = new long[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                goldenUnet.forward(in).close();
                ns[i] = System.nanoTime() - t0;
            }
            java.util.Arrays.sort(ns);
            System.out.printf(
                    "UNet tiny-sd1 forward %s on %s: median %.1f ms, min %.1f ms (%d runs)%n",
                    in.sample().getShape(),
                    goldenUnet.unet().device(),
                    ns[n / 2] / 1e6,
                    ns[0] / 1e6,
                    n);
        }
    }
}
