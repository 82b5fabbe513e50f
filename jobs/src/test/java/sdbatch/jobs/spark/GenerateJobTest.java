package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.schemas.util.Hashes;

class GenerateJobTest extends SharedSparkSession {
    @TempDir Path dir;

    private static final String CSV =
            String.join(
                    "\n",
                    "id,prompt,seed,steps,label",
                    "1,a red fox,,20,animals",
                    "2,\"a tree, with a comma\nand a newline\",42,,plants",
                    "3,,,,empty",
                    "4,a boat,,abc,bad-steps",
                    "5,a cat,7,4,animals",
                    "");

    private GenerateJob.Summary run(Path input, Path output, String... extra) throws Exception {
        List<String> args =
                new ArrayList<>(
                        GenerateArgs.of(
                                input,
                                output,
                                "--partitions",
                                "3",
                                "--batch-size",
                                "2",
                                "--progress-interval",
                                "1",
                                "--conf",
                                "spark.hadoop.fs.s3a.secret.key=SUPERSECRET"));
        args.addAll(List.of(extra));
        FakeImages.JobRun run =
                FakeImages.run(spark, JobOptions.parse(args), 2, FakeImages.generators());
        assertFalse(run.log().contains("SUPERSECRET"));
        return run.summary();
    }

    @Test
    void csvEndToEndThenResumeGeneratesNothing() throws Exception {
        Path input = dir.resolve("prompts.csv");
        Files.writeString(input, CSV);
        Path output = dir.resolve("out");

        GenerateJob.Summary first = run(input, output);
        // Rows 1 (2 seeds), 2 (seed 42), 5 (seed 7) are valid: 4 images; rows 3 and 4 invalid.
        assertEquals(
                new GenerateJob.Summary(6, 4, 2, 0, 0, 4, false, ExitCode.INVALID_ROWS), first);
        List<Row> rows = metadata(output);
        assertEquals(6, rows.size());
        Map<String, Integer> perStatus = new HashMap<>();
        for (Row r : rows) {
            perStatus.merge(r.<String>getAs("status"), 1, Integer::sum);
            assertNotNull(r.<String>getAs("id"), "passthrough id survives");
            assertNotNull(r.<String>getAs("label"), "passthrough label survives");
            assertNotNull(r.getAs("source_row"));
            if (r.getAs("status").equals("ok")) {
                Path png = output.resolve(r.<String>getAs("image_path"));
                byte[] bytes = Files.readAllBytes(png);
                assertEquals(r.<String>getAs("sha256"), Hashes.sha256Hex(bytes));
                assertEquals((long) bytes.length, r.<Long>getAs("bytes"));
                BufferedImage image = ImageIO.read(png.toFile());
                assertEquals(32, image.getWidth());
                String id = r.getAs("image_id");
                assertTrue(
                        r.<String>getAs("image_path")
                                .startsWith("images/" + id.substring(0, 2) + "/"));
                assertNull(r.getAs("error"));
                assertEquals("cpu", r.getAs("device"));
                assertEquals("driver", r.getAs("executor"));
            } else {
                assertEquals("invalid", r.getAs("status"));
                assertNull(r.getAs("image_path"));
            }
        }
        assertEquals(Map.of("ok", 4, "invalid", 2), perStatus);
        Row bad =
                rows.stream()
                        .filter(r -> "bad-steps".equals(r.getAs("label")))
                        .findFirst()
                        .orElseThrow();
        assertTrue(
                bad.<String>getAs("error").startsWith("steps \"abc\": is not an integer"),
                bad.<String>getAs("error"));
        Row multiline =
                rows.stream()
                        .filter(r -> "plants".equals(r.getAs("label")))
                        .findFirst()
                        .orElseThrow();
        assertEquals("a tree, with a comma\nand a newline", multiline.getAs("prompt"));
        assertEquals(42L, (long) multiline.<Long>getAs("seed"));

        String runJson = Files.readString(output.resolve("run.json"));
        assertTrue(runJson.contains("\"invalid\": 2"), runJson);
        assertTrue(runJson.contains("\"exit_code\": 3"), runJson);
        assertFalse(runJson.contains("SUPERSECRET"), runJson);
        assertTrue(runJson.contains("fs.s3a.secret.key"), runJson);

        GenerateJob.Summary again = run(input, output, "--resume");
        assertEquals(
                new GenerateJob.Summary(6, 4, 2, 0, 4, 0, false, ExitCode.INVALID_ROWS), again);
        List<Row> after = metadata(output);
        assertEquals(6, after.size());
        assertEquals(
                4,
                after.stream()
                        .filter(r -> r.getAs("status").equals("ok"))
                        .map(r -> r.getAs("image_id"))
                        .distinct()
                        .count());
        try (var files = Files.walk(output.resolve("images"))) {
            assertEquals(4, files.filter(Files::isRegularFile).count(), "no temporaries left");
        }
    }

    @Test
    void aPipelineThatCannotLoadFailsTheJobInsteadOfFailingEveryRow() throws Exception {
        // Issue 15 item 11: Spark retries the task (the test session allows no retry) and the
        // job fails; before, every row came back "failed" and the job "succeeded" with exit 4.
        Path input = dir.resolve("prompts.csv");
        Files.writeString(input, CSV);
        JobOptions options = GenerateArgs.options(input, dir.resolve("out"), "--partitions", "2");
        GenerateJob.GeneratorFactory cannotLoad =
                device -> {
                    throw new IllegalStateException("libtorch_cuda.so: cannot open shared object");
                };
        Exception e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        Exception.class, () -> FakeImages.run(spark, options, 1, cannotLoad));
        StringBuilder causes = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            causes.append(t).append('\n');
        }
        assertTrue(causes.toString().contains("cannot open shared object"), causes.toString());
        assertFalse(
                Files.exists(dir.resolve("out").resolve("metadata")),
                "no metadata claiming the rows failed");
    }

    @Test
    void generationFailuresAreRowsAndExitFour() throws Exception {
        Path input = dir.resolve("prompts.jsonl");
        Files.writeString(
                input,
                String.join(
                        "\n",
                        "{\"prompt\": \"fine\", \"seed\": 1, \"num_inference_steps\": 3, \"tag\": {\"k\": 1}}",
                        "{\"prompt\": \"please explode\", \"seed\": 2}",
                        "{\"prompt\": \"also fine\", \"seed\": 3}",
                        "this is not json",
                        ""));
        Path output = dir.resolve("out-fail");
        GenerateJob.Summary s = run(input, output);
        assertEquals(new GenerateJob.Summary(4, 2, 1, 1, 0, 2, false, ExitCode.FAILED_ROWS), s);
        List<Row> rows = metadata(output);
        Row failed =
                rows.stream()
                        .filter(r -> r.getAs("status").equals("failed"))
                        .findFirst()
                        .orElseThrow();
        assertEquals(
                "java.lang.IllegalStateException: the fake model exploded", failed.getAs("error"));
        assertEquals(1, (int) failed.<Integer>getAs("batch_size"), "retried alone");
        Row fine =
                rows.stream()
                        .filter(r -> "fine".equals(r.getAs("prompt")))
                        .findFirst()
                        .orElseThrow();
        assertEquals(3, (int) fine.<Integer>getAs("steps"), "num_inference_steps alias");
        Row corrupt =
                rows.stream()
                        .filter(r -> r.getAs("status").equals("invalid"))
                        .findFirst()
                        .orElseThrow();
        assertTrue(corrupt.<String>getAs("error").contains("is not valid JSON: this is not json"));
    }

    /** Every row fails, slowly: the run lasts long enough for the progress ticker to stop it. */
    static GenerateJob.GeneratorFactory slowlyFailing() {
        return device ->
                batch -> {
                    Thread.sleep(400);
                    throw new IllegalStateException("the fake model exploded");
                };
    }

    /**
     * Issue 15 item 3: past {@code --max-failures} the job group is cancelled and Spark throws its
     * checked {@code SparkException}; the run must still end as stopped, with run.json written and
     * no staging folder left.
     */
    @Test
    void maxFailuresStopsTheRunAndStillWritesTheReport() throws Exception {
        Path input = dir.resolve("many.csv");
        StringBuilder csv = new StringBuilder("prompt,seed\n");
        for (int i = 0; i < 40; i++) {
            csv.append("row ").append(i).append(',').append(i).append('\n');
        }
        Files.writeString(input, csv.toString());
        Path output = dir.resolve("out-stop");
        JobOptions options =
                GenerateArgs.options(
                        input,
                        output,
                        "--partitions",
                        "2",
                        "--progress-interval",
                        "1",
                        "--max-failures",
                        "1");
        FakeImages.JobRun run = FakeImages.run(spark, options, 1, slowlyFailing());
        GenerateJob.Summary s = run.summary();
        String text = run.log();
        assertTrue(s.stoppedEarly(), text);
        assertEquals(ExitCode.FAILED_ROWS, s.exitCode(), text);
        assertTrue(text.contains("exceed --max-failures 1; stopping"), text);
        assertTrue(Files.isRegularFile(output.resolve("run.json")), "run.json written");
        try (java.util.stream.Stream<Path> files = Files.list(output)) {
            List<String> names = files.map(p -> p.getFileName().toString()).toList();
            assertTrue(
                    names.stream().noneMatch(n -> n.contains("staging")),
                    "no staging folder left: " + names);
        }
    }
}
