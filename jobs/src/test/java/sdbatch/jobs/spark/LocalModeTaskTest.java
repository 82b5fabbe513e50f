package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import sdbatch.jobs.cli.JobOptions.Device;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.testing.SharedSparkSession;

/**
 * What a task of a {@code local[2]} session sees: it runs in the driver (so {@code --device gpu}
 * takes this JVM's GPUs), and its libtorch threads are the machine's cores shared by two slots.
 */
class LocalModeTaskTest extends SharedSparkSession {
    @Test
    void aLocalTaskKnowsItRunsInTheDriverAndGetsItsShareOfTheCores() {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> seen =
                jsc.parallelize(List.of(1, 2), 2)
                        .map(
                                x ->
                                        GpuAssignment.tasksRunInTheDriver()
                                                + " "
                                                + TaskThreads.forThisExecutor()
                                                + " "
                                                + GpuAssignment.forCurrentTask(Device.CPU))
                        .collect();
        int cores = Runtime.getRuntime().availableProcessors();
        String expected =
                "true "
                        + TaskThreads.perTask("local[2]", null, 1, cores)
                        + " "
                        + new GpuAssignment("cpu", null);
        assertEquals(List.of(expected, expected), seen);
    }

    @Test
    void deviceGpuInALocalTaskWithoutAVisibleGpuFailsNamingTheEngine() {
        Assumptions.assumeTrue(
                EngineGpus.count() == 0, "this machine's libtorch sees a GPU: nothing to refuse");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> seen =
                jsc.parallelize(List.of(1), 1)
                        .map(
                                x -> {
                                    try {
                                        return "assigned "
                                                + GpuAssignment.forCurrentTask(Device.GPU);
                                    } catch (StartupException e) {
                                        return e.getMessage();
                                    }
                                })
                        .collect();
        assertTrue(seen.get(0).contains("Spark local mode"), seen.get(0));
        assertTrue(seen.get(0).contains("sees no CUDA GPU"), seen.get(0));
    }
}
