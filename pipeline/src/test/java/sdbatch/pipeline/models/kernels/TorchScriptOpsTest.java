package sdbatch.pipeline.models.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Modules written in Java, loaded once on first use, probed once where asked. */
class TorchScriptOpsTest {
    private static final String DOUBLE =
            String.join(
                    "\n",
                    "  def forward(self: __torch__.SdbatchTestDouble,",
                    "    x: Tensor) -> Tensor:",
                    "    return torch.mul(x, 2.)");

    @Test
    void aModuleLoadsOnceAndComputes() {
        TorchScriptOps.Lazy lazy = new TorchScriptOps.Lazy("SdbatchTestDouble", DOUBLE);
        PtSymbolBlock m = lazy.get();
        assertNotNull(m, () -> "not loaded: " + lazy.unavailableReason());
        assertTrue(m == lazy.get(), "loaded once");
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray y = TorchScriptOps.call(m, manager.create(new float[] {1, -2.5f}));
            assertArrayEquals(new float[] {2, -5}, y.toFloatArray(), 0f);
        }
    }

    @Test
    void aProbeRunsOnceAndItsFailureMakesTheModuleUnavailable() {
        AtomicInteger probes = new AtomicInteger();
        TorchScriptOps.Lazy passing =
                new TorchScriptOps.Lazy(
                        "SdbatchTestDouble",
                        DOUBLE,
                        (m, manager) -> {
                            probes.incrementAndGet();
                            TorchScriptOps.call(m, manager.ones(new ai.djl.ndarray.types.Shape(2)));
                        });
        assertNotNull(passing.get());
        assertNotNull(passing.get());
        assertEquals(1, probes.get());
        assertNull(passing.unavailableReason());

        TorchScriptOps.Lazy failing =
                new TorchScriptOps.Lazy(
                        "SdbatchTestDouble",
                        DOUBLE,
                        (m, manager) -> {
                            probes.incrementAndGet();
                            throw new IllegalStateException("no kernels for this CPU");
                        });
        assertNull(failing.get(), "a module whose probe fails is not handed out");
        assertNull(failing.get());
        assertEquals(2, probes.get(), "and is not probed again");
        assertTrue(
                failing.unavailableReason().contains("no kernels for this CPU"),
                failing.unavailableReason());
    }
}
