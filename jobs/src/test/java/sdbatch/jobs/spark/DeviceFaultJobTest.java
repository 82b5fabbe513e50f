package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;

/**
 * Issue 15 item 10: an executor whose GPU faulted fails its task instead of failing every row it is
 * given, and Spark's retry makes the rows. Local mode with two task attempts ({@code local[2,2]});
 * the fake device is broken on every first attempt.
 */
class DeviceFaultJobTest extends SharedSparkSession {
    @TempDir Path dir;

    @Override
    protected String master() {
        return "local[2,2]"; // two attempts per task
    }

    /** A pipeline on a GPU that lost its CUDA context on a task's first attempt. */
    static final class FaultedOnFirstAttempt implements Generator<PlannedRequest> {
        @Override
        public List<GeneratedPng> generate(List<PlannedRequest> batch) throws Exception {
            TaskContext context = TaskContext.get();
            if (context != null && context.attemptNumber() == 0) {
                throw new IllegalStateException(
                        "test: CUDA error: an illegal memory access was encountered");
            }
            List<GeneratedPng> out = new ArrayList<>();
            for (PlannedRequest p : batch) {
                out.add(GeneratedPng.ok(FakeImages.png(p.request())));
            }
            return out;
        }

        @Override
        public boolean poisonsPipeline(Throwable failure) {
            return DeviceFaults.poisonsDevice(failure);
        }
    }

    @Test
    void aFaultedDeviceFailsItsTaskAndTheRetryMakesEveryRow() throws Exception {
        Path input = dir.resolve("prompts.csv");
        Files.writeString(input, "prompt,seed\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\n");
        Path output = dir.resolve("out");
        JobOptions options =
                GenerateArgs.options(input, output, "--partitions", "2", "--batch-size", "2");
        GenerateJob.Summary s =
                FakeImages.run(spark, options, 1, device -> new FaultedOnFirstAttempt()).summary();
        assertEquals(ExitCode.OK, s.exitCode(), s.toString());
        assertEquals(6, s.ok(), s.toString());
        List<Row> rows = metadata(output);
        assertEquals(6, rows.size());
        for (Row r : rows) {
            assertEquals("ok", r.getAs("status"), r.toString());
            assertEquals(1, r.<Integer>getAs("attempt"), "made by the retry: " + r);
        }
    }
}
