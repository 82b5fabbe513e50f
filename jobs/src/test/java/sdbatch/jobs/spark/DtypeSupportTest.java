package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.testing.GenerateArgs;

/** Each --dtype either runs as asked on its device or is refused at start. */
class DtypeSupportTest {
    @TempDir Path dir;

    @Test
    void eachDtypeRunsOnItsDevicesAndIsRefusedOnTheOthers() {
        assertNull(DtypeSupport.refusal("fp32", false));
        assertNull(DtypeSupport.refusal("fp32", true));
        assertNull(DtypeSupport.refusal("fp16", true));
        assertNull(DtypeSupport.refusal("bf16", false));
        assertTrue(DtypeSupport.refusal("fp16", false).contains("fp16 needs a GPU"));
        assertTrue(DtypeSupport.refusal("bf16", true).contains("bf16 is the CPU path"));
    }

    @Test
    void theDriverExpectsAGpuForDeviceGpuOrConfiguredGpuResources() {
        assertTrue(DtypeSupport.expectsGpu(JobOptions.Device.GPU, Map.of()));
        assertFalse(DtypeSupport.expectsGpu(JobOptions.Device.CPU, Map.of()));
        assertFalse(DtypeSupport.expectsGpu(JobOptions.Device.AUTO, Map.of()));
        assertTrue(
                DtypeSupport.expectsGpu(
                        JobOptions.Device.AUTO, Map.of("spark.task.resource.gpu.amount", "0.5")));
        assertTrue(
                DtypeSupport.expectsGpu(
                        JobOptions.Device.AUTO, Map.of("spark.executor.resource.gpu.amount", "1")));
        assertFalse(
                DtypeSupport.expectsGpu(
                        JobOptions.Device.AUTO, Map.of("spark.task.resource.gpu.amount", "0")));
        assertThrows(
                StartupException.class,
                () ->
                        DtypeSupport.checkAtStart(
                                "bf16",
                                JobOptions.Device.AUTO,
                                Map.of("spark.executor.resource.gpu.amount", "1")));
    }

    /** The command a user runs: fp16 in local mode (tasks on the CPU) exits 2 before any row. */
    @Test
    void generateWithFp16OnTheCpuExitsTwoAndWritesNoImage() throws Exception {
        Path table = dir.resolve("p.csv");
        Files.writeString(table, "prompt\na red fox\n");
        Path out = dir.resolve("out");
        GenerateArgs.CliRun run =
                GenerateArgs.run(
                        GenerateArgs.of(table, out, "--master", "local[1]", "--dtype", "fp16"));
        String text = run.text();
        assertEquals(2, run.code(), text);
        assertTrue(text.contains("fp16 needs a GPU"), text);
        assertFalse(Files.exists(out.resolve("images")), "nothing generated");
    }
}
