package sdbatch.pipeline.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {
    @Test
    void quickDefaultsThenOverrides() {
        BenchOptions o =
                BenchOptions.parse(
                        new String[] {
                            "--quick", "--json", "--batches", "1,2,4", "--out", "b.json"
                        });
        assertTrue(o.json());
        assertEquals(List.of(32), o.latents());
        assertEquals(List.of(1, 2, 4), o.batches());
        assertEquals(Path.of("b.json"), o.out());
        assertEquals(List.of("tiny", "sd15"), o.models());
        assertEquals("fp32", o.dtype());
    }

    @Test
    void badValuesNameTheFlag() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> BenchOptions.parse(new String[] {"--dtype", "int8"}));
        assertTrue(e.getMessage().contains("--dtype int8"), e.getMessage());
        assertEquals("bf16", BenchOptions.parse(new String[] {"--dtype", "bf16"}).dtype());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> BenchOptions.parse(new String[] {"--latents", "33"}));
        assertTrue(e.getMessage().contains("--latents 33"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> BenchOptions.parse(new String[] {"--threads"}));
        assertTrue(e.getMessage().contains("--threads needs a value"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> BenchOptions.parse(new String[] {"--frobnicate"}));
    }

    @Test
    void helpIsNull() {
        assertNull(BenchOptions.parse(new String[] {"--models", "tiny", "--help"}));
    }
}
