package sdbatch.pipeline.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class NativeProfileTest {
    @Test
    void countsOnlyTopLevelOpsPerThread() {
        // Thread 1: reshape [0, 10) containing view [2, 5); mul [20, 50) containing to [25, 40)
        // containing copy_ [30, 35). Thread 2: add [3, 7), overlapping thread 1's reshape but
        // top-level on its own thread. A non-"X" event is ignored.
        String trace =
                """
                {"traceEvents": [
                 {"name": "aten::view", "ph": "X", "ts": 2, "dur": 3, "tid": 1},
                 {"name": "aten::reshape", "ph": "X", "ts": 0, "dur": 10, "tid": 1},
                 {"name": "aten::copy_", "ph": "X", "ts": 30, "dur": 5, "tid": 1},
                 {"name": "aten::to", "ph": "X", "ts": 25, "dur": 15, "tid": 1},
                 {"name": "aten::mul", "ph": "X", "ts": 20, "dur": 30, "tid": 1},
                 {"name": "aten::add", "ph": "X", "ts": 3, "dur": 4, "tid": 2},
                 {"name": "marker", "ph": "i", "ts": 1, "tid": 1}
                ]}
                """;
        NativeProfile p = NativeProfile.parse(trace, 100e-6);
        assertEquals(3, p.nativeCalls());
        assertEquals((10 + 30 + 4) / 1e6, p.kernelSeconds(), 1e-12);
        assertEquals(1 - 44.0 / 100, p.javaShare(), 1e-9);
        assertEquals(
                List.of("aten::mul", "aten::reshape", "aten::add"), List.copyOf(p.byOp().keySet()));
        assertArrayEquals(new double[] {1, 30e-6}, p.byOp().get("aten::mul"), 1e-12);
    }
}
