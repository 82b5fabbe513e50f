package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.JobOptions.Device;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.testing.GenerateArgs;

/**
 * {@code --device gpu} works in Spark local mode on a GPU machine (tasks take this JVM's GPUs) and
 * is refused at start, on the driver, where it cannot work.
 */
class DeviceSupportTest {
    @TempDir Path dir;

    @Test
    void localModeNeedsAGpuTheEngineSees() {
        AtomicInteger asked = new AtomicInteger();
        assertNull(DeviceSupport.refusal(Device.GPU, "local[*]", Map.of(), () -> 1, () -> "e"));
        String why = DeviceSupport.refusal(Device.GPU, "local[2]", Map.of(), () -> 0, () -> "E");
        assertTrue(why.contains("--device gpu"), why);
        assertTrue(why.contains("sees no CUDA GPU (E)"), why);
        assertTrue(
                DeviceSupport.refusal(Device.GPU, "local", Map.of(), () -> 0, () -> "E") != null);
        // cpu and auto never ask the engine: they always work.
        assertNull(
                DeviceSupport.refusal(
                        Device.CPU, "local[*]", Map.of(), asked::incrementAndGet, () -> "E"));
        assertNull(
                DeviceSupport.refusal(
                        Device.AUTO, "local[*]", Map.of(), asked::incrementAndGet, () -> "E"));
        assertEquals(0, asked.get());
    }

    @Test
    void clusterModeNeedsGpuSchedulingNotADriverGpu() {
        Map<String, String> scheduled = Map.of("spark.task.resource.gpu.amount", "1");
        // The driver of a cluster job often has no GPU: its engine is never asked.
        assertNull(
                DeviceSupport.refusal(
                        Device.GPU,
                        "spark://m:7077",
                        scheduled,
                        () -> {
                            throw new AssertionError("asked the driver's engine");
                        },
                        () -> "E"));
        assertNull(
                DeviceSupport.refusal(
                        Device.GPU,
                        "local-cluster[2,1,1024]",
                        Map.of("spark.executor.resource.gpu.amount", "1"),
                        () -> 0,
                        () -> "E"));
        String why = DeviceSupport.refusal(Device.GPU, "yarn", Map.of(), () -> 1, () -> "E");
        assertTrue(why.contains("spark.task.resource.gpu.amount"), why);
    }

    @Test
    void localModeTasksTakeThisJvmsGpusWithoutSparkAssignment() {
        assertEquals(new GpuAssignment("gpu:0", "0"), GpuAssignment.resolveLocal(Device.GPU, 5, 1));
        assertEquals(new GpuAssignment("gpu:1", "1"), GpuAssignment.resolveLocal(Device.GPU, 3, 2));
        assertEquals(new GpuAssignment("gpu:0", "0"), GpuAssignment.resolveLocal(Device.GPU, 4, 2));
        assertEquals(0, GpuAssignment.resolveLocal(Device.GPU, 0, 1).djlDevice(null).getDeviceId());
        assertEquals(new GpuAssignment("cpu", null), GpuAssignment.resolveLocal(Device.CPU, 0, 1));
        assertEquals(new GpuAssignment("cpu", null), GpuAssignment.resolveLocal(Device.AUTO, 0, 1));
        assertThrows(StartupException.class, () -> GpuAssignment.resolveLocal(Device.GPU, 0, 0));
    }

    /** The command a user runs on this CPU machine: refused at start, exit 2, no task, no image. */
    @Test
    void generateWithDeviceGpuWhereNoGpuIsVisibleExitsTwoBeforeAnyTask() throws Exception {
        Assumptions.assumeTrue(
                EngineGpus.count() == 0, "this machine's libtorch sees a GPU: nothing to refuse");
        Path table = dir.resolve("p.csv");
        Files.writeString(table, "prompt\na red fox\n");
        Path out = dir.resolve("out");
        GenerateArgs.CliRun run =
                GenerateArgs.run(
                        GenerateArgs.of(table, out, "--master", "local[1]", "--device", "gpu"));
        String text = run.text();
        assertEquals(2, run.code(), text);
        assertTrue(text.contains("--device gpu: Spark local mode (local[1])"), text);
        assertTrue(text.contains("sees no CUDA GPU"), text);
        assertFalse(Files.exists(out.resolve("images")), "nothing generated");
        assertFalse(Files.exists(out.resolve("metadata")), "no task ran");
    }
}
