package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.ValidationResult;

/**
 * Issue 15 item 11: an executor whose pipeline cannot load must fail its task (so Spark retries it
 * elsewhere and excludes the executor), not hand every row a "failed" status and finish the
 * partition fast.
 */
class PartitionTaskLoadFailureTest {
    @TempDir Path dir;

    private PartitionTask task(GenerateJob.GeneratorFactory generators) {
        return new PartitionTask(
                generators,
                JobOptions.Device.CPU,
                2,
                false,
                new HadoopConf(new Configuration()),
                dir.resolve("out").toUri().toString(),
                FakeImages.MODEL.identity(),
                "test",
                List.of(),
                new ImageCounters(new LongAccumulator(), new LongAccumulator()));
    }

    private static Iterator<PlannedRequest> requests(int n) {
        List<PlannedRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ValidationResult v =
                    FakeImages.planner(1).validate(PromptRow.ofPrompt(i, "a fox number " + i));
            PlannedRequest p = FakeImages.planner(1).expand((ValidationResult.Valid) v).next();
            out.add(p.withOrdinal(i));
        }
        return out.iterator();
    }

    @Test
    void aPipelineThatCannotLoadFailsTheTaskNotItsRows() {
        IllegalStateException cudaTooOld =
                new IllegalStateException(
                        "CUDA driver version is insufficient for CUDA runtime version");
        PartitionTask task =
                task(
                        device -> {
                            throw cudaTooOld;
                        });
        PipelineLoadException e =
                assertThrows(
                        PipelineLoadException.class,
                        () -> {
                            Iterator<Row> rows = task.run(requests(3));
                            while (rows.hasNext()) {
                                rows.next();
                            }
                        });
        assertSame(cudaTooOld, e.getCause());
        assertTrue(e.getMessage().contains("CUDA driver version is insufficient"), e.getMessage());
        assertTrue(e.getMessage().contains("cpu"), "names the device: " + e.getMessage());
        assertFalse(Files.exists(dir.resolve("out").resolve("images")), "no image was stored");
    }

    @Test
    void rowsStillFailForTheirOwnReasons() throws Exception {
        Iterator<Row> rows = task(FakeImages.generators()).run(requests(2));
        int n = 0;
        while (rows.hasNext()) {
            Row row = rows.next();
            assertEquals("ok", row.get(SparkSchemas.METADATA.fieldIndex("status")));
            n++;
        }
        assertEquals(2, n);
    }
}
