package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.launcher.JavaModuleOptions;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.schemas.util.Hashes;

/**
 * Issue 15 items 1 and 5: {@code --resume} counts every stored image, also those of a driver that
 * was killed before its metadata commit, and its metadata follows the current input.
 */
class GenerateJobResumeTest extends SharedSparkSession {
    @TempDir Path dir;

    /**
     * Image ids the in-process generator was asked for (executors share this JVM in local mode).
     */
    static final ConcurrentLinkedQueue<String> GENERATED = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void clear() {
        GENERATED.clear();
    }

    /** {@link FakeImages#generators} that records every image it generates. */
    static GenerateJob.GeneratorFactory counting() {
        return device ->
                batch -> {
                    List<GeneratedPng> out = new ArrayList<>();
                    for (PlannedRequest p : batch) {
                        GENERATED.add(p.imageId());
                        out.add(GeneratedPng.ok(FakeImages.png(p.request())));
                    }
                    return out;
                };
    }

    private GenerateJob.Summary run(Path input, Path output, String... extra) throws Exception {
        List<String> args = new ArrayList<>(GenerateArgs.of(input, output, "--partitions", "2"));
        args.addAll(List.of(extra));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        return GenerateJob.run(
                spark,
                JobOptions.parse(args),
                new GenerateJob.Components(FakeImages.planner(1), counting(), "fake"),
                new PrintStream(log, true, StandardCharsets.UTF_8));
    }

    /** The image files under {@code output/images} (temporaries included). */
    private static List<Path> files(Path output) throws Exception {
        Path images = output.resolve("images");
        if (!Files.isDirectory(images)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(images)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    private static Set<String> storedIds(Path output) throws Exception {
        return files(output).stream()
                .map(p -> p.getFileName().toString())
                .filter(n -> !n.startsWith(".") && n.endsWith(".png"))
                .map(n -> n.substring(0, n.length() - ".png".length()))
                .collect(Collectors.toSet());
    }

    /**
     * How many images the running driver has stored so far; 0 when a temporary it was writing
     * vanished under the walk (renamed into place or deleted): the next poll sees it.
     */
    private static int storedIdsWhileWriting(Path output) throws Exception {
        try {
            return storedIds(output).size();
        } catch (java.io.UncheckedIOException vanished) {
            return 0;
        }
    }

    /** Every ok row's sha256 and bytes are its stored file's. */
    private static void assertRowsMatchFiles(Path output, List<Row> rows) throws Exception {
        for (Row r : rows) {
            byte[] png = Files.readAllBytes(output.resolve(r.<String>getAs("image_path")));
            assertEquals(Hashes.sha256Hex(png), r.getAs("sha256"), r.toString());
            assertEquals((long) png.length, (long) r.<Long>getAs("bytes"), r.toString());
        }
    }

    /**
     * Item 5: a row added to the input that duplicates a done image gets its own row, a row removed
     * from the input leaves the metadata, and only the new image is generated.
     */
    @Test
    void resumedMetadataFollowsTheCurrentInput() throws Exception {
        Path output = dir.resolve("out");
        Path first = dir.resolve("first.csv");
        Files.writeString(
                first, "id,prompt,seed\na,a red fox,1\nb,a blue bird,2\nc,a green frog,3\n");
        assertEquals(3, run(first, output).ok());
        Map<String, Row> before =
                metadata(output).stream()
                        .collect(Collectors.toMap(r -> r.<String>getAs("id"), r -> r));
        GENERATED.clear();

        Path second = dir.resolve("second.csv");
        Files.writeString(
                second,
                "id,prompt,seed\na,a red fox,1\nb,a blue bird,2\na2,a red fox,1\nd,a yellow"
                        + " sun,4\n");
        GenerateJob.Summary s = run(second, output, "--resume");

        assertEquals(new GenerateJob.Summary(4, 4, 0, 0, 2, 1, false, ExitCode.OK), s);
        Map<String, Row> after =
                metadata(output).stream()
                        .collect(Collectors.toMap(r -> r.<String>getAs("id"), r -> r));
        assertEquals(Set.of("a", "b", "a2", "d"), after.keySet(), "c is gone, a2 has its row");
        assertEquals(List.of(after.get("d").<String>getAs("image_id")), List.copyOf(GENERATED));
        Row a = after.get("a");
        Row a2 = after.get("a2");
        assertEquals(a.<String>getAs("image_id"), a2.getAs("image_id"));
        assertEquals("ok", a2.getAs("status"));
        assertEquals(a.<Long>getAs("source_row"), a2.<Long>getAs("duplicate_of"));
        assertNull(a.getAs("duplicate_of"));
        // The generation columns of a resumed image are those of the run that made it.
        for (String id : List.of("a", "b")) {
            for (String column : List.of("sha256", "started_at", "total_ms", "executor")) {
                assertEquals(
                        before.get(id).<Object>getAs(column),
                        after.get(id).getAs(column),
                        id + " " + column);
            }
        }
        assertRowsMatchFiles(output, List.copyOf(after.values()));
    }

    /**
     * Item 1: the driver (a separate JVM) is killed with SIGKILL while it generates, before any
     * metadata is committed; {@code --resume} then generates exactly the images it had not stored,
     * and the metadata has every image exactly once.
     */
    @Test
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void killedDriverLosesNoImageAndResumeGeneratesNoneTwice() throws Exception {
        int images = 12;
        Path input = dir.resolve("prompts.csv");
        StringBuilder csv = new StringBuilder("id,prompt,seed\n");
        for (int i = 0; i < images; i++) {
            csv.append("r").append(i).append(",a lighthouse number ").append(i);
            csv.append(',').append(i).append('\n');
        }
        Files.writeString(input, csv.toString());
        Path output = dir.resolve("killed");
        Path log = dir.resolve("driver.log");

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
        command.addAll(List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx1g"));
        command.add("-cp");
        String surefire = System.getProperty("surefire.test.class.path");
        command.add(
                surefire != null && !surefire.isBlank()
                        ? surefire
                        : System.getProperty("java.class.path"));
        command.add(KilledDriverMain.class.getName());
        command.addAll(List.of(input.toString(), output.toString(), "700"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        builder.redirectOutput(log.toFile());
        Process driver = builder.start();
        Set<String> storedAtKill;
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(4);
            while (storedIdsWhileWriting(output) < 3) {
                assertTrue(driver.isAlive(), () -> "the driver ended early:\n" + read(log));
                assertTrue(System.nanoTime() < deadline, () -> "no images:\n" + read(log));
                Thread.sleep(50);
            }
        } finally {
            driver.destroyForcibly(); // SIGKILL: no finally block, no shutdown hook runs
            driver.waitFor();
        }
        storedAtKill = storedIds(output);
        assertFalse(Files.exists(output.resolve("metadata")), "killed before the commit");
        assertTrue(storedAtKill.size() < images, "killed mid-run: " + storedAtKill.size());

        GenerateJob.Summary s = run(input, output, "--resume");

        List<String> generated = List.copyOf(GENERATED);
        assertEquals(generated.size(), new HashSet<>(generated).size(), "nothing generated twice");
        Set<String> again = new HashSet<>(generated);
        again.retainAll(storedAtKill);
        assertEquals(Set.of(), again, "no stored image is generated again");
        assertEquals(images - storedAtKill.size(), generated.size());
        assertEquals(
                new GenerateJob.Summary(
                        images,
                        images,
                        0,
                        0,
                        storedAtKill.size(),
                        images - storedAtKill.size(),
                        false,
                        ExitCode.OK),
                s);
        List<Row> rows = metadata(output);
        assertEquals(images, rows.size());
        Map<String, Long> perImage =
                rows.stream()
                        .collect(
                                Collectors.groupingBy(
                                        r -> r.<String>getAs("image_id"), Collectors.counting()));
        assertEquals(images, perImage.size(), "every image exactly once");
        assertTrue(rows.stream().allMatch(r -> "ok".equals(r.getAs("status"))));
        assertRowsMatchFiles(output, rows);
        assertEquals(images, files(output).size(), "no temporaries of the killed driver left");
        try (Stream<Path> top = Files.list(output)) {
            List<String> names =
                    top.map(p -> p.getFileName().toString())
                            .filter(n -> n.startsWith("metadata"))
                            .toList();
            assertEquals(List.of("metadata"), names, "no staging folder of the killed driver");
        }
        System.out.printf(
                "GenerateJobResumeTest: killed driver: %d rows in, %d stored at the kill, %d"
                        + " generated on resume, %d rows accounted for, %d images stored, %d"
                        + " generated twice%n",
                images,
                storedAtKill.size(),
                generated.size(),
                rows.size(),
                files(output).size(),
                generated.size() - new HashSet<>(generated).size() + again.size());
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
