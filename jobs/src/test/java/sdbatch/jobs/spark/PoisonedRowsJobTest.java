package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;

/**
 * Issue 15's fault injection "a poisoned row in every partition", through Spark: rows whose
 * generation runs the executor out of memory (an {@link OutOfMemoryError}, as a too-large request
 * would) sit in every partition, batched with healthy rows. Each poisoned row fails alone, with its
 * reason; every other row is generated exactly once and stored; the job finishes.
 */
class PoisonedRowsJobTest extends SharedSparkSession {
    @TempDir Path dir;

    /** Successful generations per image id (local mode: the tasks run in this JVM). */
    static final Map<String, Integer> GENERATED = new ConcurrentHashMap<>();

    /** Partitions that met a poisoned row. */
    static final Set<Integer> POISONED_PARTITIONS = ConcurrentHashMap.newKeySet();

    static final int ROWS = 24;
    static final int PARTITIONS = 4;

    static GenerateJob.GeneratorFactory poisonedGenerators() {
        return device ->
                batch -> {
                    List<GeneratedPng> out = new ArrayList<>();
                    for (PlannedRequest p : batch) {
                        if (p.request().prompt().startsWith("poison")) {
                            POISONED_PARTITIONS.add(TaskContext.getPartitionId());
                            throw new OutOfMemoryError("test: the poisoned row's activations");
                        }
                        out.add(GeneratedPng.ok(FakeImages.png(p.request())));
                    }
                    for (PlannedRequest p : batch) {
                        GENERATED.merge(p.imageId(), 1, Integer::sum);
                    }
                    return out;
                };
    }

    @Test
    void aPoisonedRowInEveryPartitionFailsOnlyItselfAndNothingIsGeneratedTwice() throws Exception {
        StringBuilder csv = new StringBuilder("prompt,seed\n");
        int poisoned = 0;
        for (int i = 0; i < ROWS; i++) {
            boolean poison = i % 3 == 1;
            poisoned += poison ? 1 : 0;
            csv.append(poison ? "poison " : "row ").append(i).append(',').append(i).append('\n');
        }
        Path input = dir.resolve("rows.csv");
        Files.writeString(input, csv.toString());
        Path output = dir.resolve("out");
        JobOptions options =
                GenerateArgs.options(
                        input,
                        output,
                        "--partitions",
                        Integer.toString(PARTITIONS),
                        "--batch-size",
                        "3");
        FakeImages.JobRun run = FakeImages.run(spark, options, 1, poisonedGenerators());
        GenerateJob.Summary summary = run.summary();
        String text = run.log();

        assertEquals(Set.of(0, 1, 2, 3), POISONED_PARTITIONS, "a poisoned row in every partition");
        List<Row> rows = metadata(output);
        assertEquals(ROWS, rows.size(), "every row accounted for\n" + text);
        Map<String, Long> byStatus =
                rows.stream()
                        .collect(
                                Collectors.groupingBy(
                                        r -> r.<String>getAs("status"), Collectors.counting()));
        assertEquals(Map.of("ok", (long) (ROWS - poisoned), "failed", (long) poisoned), byStatus);
        for (Row r : rows) {
            if ("failed".equals(r.getAs("status"))) {
                assertTrue(r.<String>getAs("prompt").startsWith("poison"), r.toString());
                assertTrue(
                        r.<String>getAs("error").contains("the poisoned row's activations"),
                        r.<String>getAs("error"));
            }
        }
        try (Stream<Path> files = Files.walk(output.resolve("images"))) {
            assertEquals(ROWS - poisoned, files.filter(p -> p.toString().endsWith(".png")).count());
        }
        assertEquals(ROWS - poisoned, GENERATED.size(), "every healthy row generated");
        assertTrue(
                GENERATED.values().stream().allMatch(n -> n == 1),
                "none generated twice: " + GENERATED);
        assertEquals(ROWS - poisoned, summary.generated());
        System.out.printf(
                "poisoned rows: %d rows in, %d accounted for, %d images stored, %d failed, %d"
                        + " generated twice%n",
                ROWS,
                rows.size(),
                ROWS - poisoned,
                poisoned,
                GENERATED.values().stream().filter(n -> n > 1).count());
    }
}
