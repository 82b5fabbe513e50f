package sdbatch.jobs.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.Cli;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.schemas.util.Hashes;

/**
 * The generate job on a real multi-JVM Spark standalone cluster on loopback: master, worker with
 * two fake GPUs, two one-core executors each holding one GPU, and the driver in its own JVM running
 * the real command line ({@link Cli}: {@code sdbatch generate} on the built-in tiny model, 12
 * steps, 32×32, its model cache in the test's folder). One executor is killed (SIGKILL) while it
 * generates; Spark must run its lost work again on the executor the worker launches in its place.
 * The job still ends with exit 0, every image exactly once, no temporaries, both GPU addresses
 * recorded; then {@code --resume} generates nothing.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class StandaloneClusterTest {
    private static final String PROMPT = "a lighthouse number ";

    /**
     * 12 images in 6 partitions of 2 on 2 one-core executors: each executor runs about 3 tasks, so
     * after its first committed task there are two more to kill it in. An image takes ~0.4-1.4 s on
     * the tiny model at 32×32 and 12 steps on a 2-core host (a faster CI host once finished a task
     * between the choice of the victim and the kill at 6 steps; the victim is now chosen early in a
     * task).
     */
    private static final int PROMPTS = 6;

    private static final int IMAGES_PER_PROMPT = 2;
    private static final int IMAGES = PROMPTS * IMAGES_PER_PROMPT;
    private static final int PARTITIONS = 6;
    private static final int STEPS = 12;
    private static final int SIZE = 32;

    private static final Duration CLUSTER_START = Duration.ofSeconds(90);
    private static final Duration RUN = Duration.ofSeconds(150);

    /** How Spark's REST API writes times. */
    private static final DateTimeFormatter REST_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'GMT'");

    /** The metadata columns the test reads. */
    private static final List<String> METADATA_COLUMNS =
            List.of(
                    "image_id",
                    "image_path",
                    "status",
                    "error",
                    "sha256",
                    "device",
                    "gpu_address",
                    "executor",
                    "attempt",
                    "prompt",
                    "seed",
                    "width",
                    "height",
                    "label",
                    "total_ms");

    @TempDir Path dir;

    private final long startNanos = System.nanoTime();

    /** Phase timings in the test output: where the minutes of a slow run went. */
    private void phase(String what) {
        System.out.printf(
                "StandaloneClusterTest: %.1f s: %s%n",
                (System.nanoTime() - startNanos) / 1e9, what);
    }

    @Test
    void killedExecutorLosesNothingThenResumeGeneratesNothing() throws Exception {
        Path input = dir.resolve("prompts.csv");
        List<String> lines = new ArrayList<>(List.of("id,prompt,label"));
        for (int i = 0; i < PROMPTS; i++) {
            lines.add(i + "," + PROMPT + i + ",row-" + i);
        }
        Files.write(input, lines, StandardCharsets.UTF_8);
        Path output = dir.resolve("out");
        Path images = output.resolve("images");

        try (StandaloneCluster cluster =
                StandaloneCluster.start(dir.resolve("cluster"), 2, 2, CLUSTER_START)) {
            phase("cluster up at " + cluster.masterUrl());
            // 1. Run; kill an executor that has committed a task and is running another, so both
            // halves are tested: its finished rows must be kept, its lost task run again.
            int uiPort = StandaloneCluster.freePort();
            Process driver =
                    startDriver(
                            cluster,
                            "driver-run",
                            input,
                            output,
                            false,
                            Map.of(
                                    "spark.ui.enabled", "true",
                                    "spark.ui.port", Integer.toString(uiPort),
                                    "spark.port.maxRetries", "0"));
            AtomicReference<String> victimId = new AtomicReference<>();
            AtomicReference<ProcessHandle> victim = new AtomicReference<>();
            cluster.awaitTrue(
                    RUN,
                    () -> {
                        requireAlive(driver, cluster, "driver-run");
                        if (countImages(images) == 0 || cluster.executors().size() != 2) {
                            return false; // not generating yet
                        }
                        Optional<String> id = executorToKill(uiPort);
                        Optional<ProcessHandle> process = id.flatMap(cluster::executor);
                        if (process.isEmpty()) {
                            return false;
                        }
                        victimId.set(id.get());
                        victim.set(process.get());
                        return true;
                    },
                    "an executor that finished a generation task and runs another");
            phase(
                    "killing executor "
                            + victimId.get()
                            + "; images so far: "
                            + countImages(images)
                            + "; executors: "
                            + executorResources(uiPort));
            Set<String> first = executorIds(cluster);
            victim.get().destroyForcibly();
            victim.get().onExit().get(30, TimeUnit.SECONDS);
            assertTrue(
                    driver.isAlive(),
                    "the kill landed mid-run: "
                            + countImages(images)
                            + " of "
                            + IMAGES
                            + " images");

            // The worker launches a replacement; remember every executor seen until the end.
            Set<String> seen = new TreeSet<>(first);
            cluster.awaitTrue(
                    RUN,
                    () -> {
                        seen.addAll(executorIds(cluster));
                        return !driver.isAlive();
                    },
                    "the first run to end",
                    "driver-run");
            phase("run ended; executors seen: " + seen);
            String driverLog = cluster.logText("driver-run");
            String driverTail = cluster.tail("driver-run", 150);
            assertEquals(0, driver.exitValue(), "exit code of the run\n" + driverTail);
            assertTrue(
                    driverLog.contains("Lost executor " + victimId.get()),
                    "the driver saw executor " + victimId.get() + " die\n" + driverTail);
            assertTrue(
                    driverLog
                            .lines()
                            .anyMatch(
                                    l ->
                                            l.contains("Lost task")
                                                    && l.contains(
                                                            "executor " + victimId.get() + ")")),
                    "the driver lost the task executor "
                            + victimId.get()
                            + " was running\n"
                            + driverTail);
            assertTrue(
                    seen.size() > first.size(),
                    "the worker launched a replacement executor: first "
                            + first
                            + ", seen "
                            + seen);

            // 2. Every image exactly once, all ok, both GPU addresses, rows of the dead executor
            // kept.
            List<Map<String, String>> rows = metadata(output);
            assertEquals(IMAGES, rows.size(), "one metadata row per expanded request");
            Map<String, Integer> perId = new TreeMap<>();
            Map<String, Set<String>> seedsPerPrompt = new TreeMap<>();
            Set<String> gpuAddresses = new TreeSet<>();
            Set<String> executors = new TreeSet<>();
            Map<String, Integer> attempts = new TreeMap<>();
            List<Long> imageMillis = new ArrayList<>();
            for (Map<String, String> r : rows) {
                String id = r.get("image_id");
                perId.merge(id, 1, Integer::sum);
                assertEquals("ok", r.get("status"), id + ": " + r.get("error"));
                assertEquals("cpu", r.get("device"), "--device cpu runs on the CPU");
                assertEquals(
                        "row-" + r.get("prompt").replace(PROMPT, ""),
                        r.get("label"),
                        "passthrough column of " + r.get("prompt"));
                seedsPerPrompt
                        .computeIfAbsent(r.get("prompt"), k -> new TreeSet<>())
                        .add(r.get("seed"));
                gpuAddresses.add(r.get("gpu_address"));
                executors.add(r.get("executor"));
                attempts.merge(r.get("attempt"), 1, Integer::sum);
                imageMillis.add(Long.valueOf(r.get("total_ms")));
                assertEquals(
                        "images/" + id.substring(0, 2) + "/" + id + ".png", r.get("image_path"));
                byte[] bytes = Files.readAllBytes(output.resolve(r.get("image_path")));
                assertEquals(r.get("sha256"), Hashes.sha256Hex(bytes), id);
                BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
                assertEquals(r.get("width"), Integer.toString(image.getWidth()), id);
                assertEquals(r.get("height"), Integer.toString(image.getHeight()), id);
                assertEquals(Integer.toString(SIZE), r.get("width"), id);
                assertEquals(Integer.toString(SIZE), r.get("height"), id);
            }
            assertTrue(
                    perId.values().stream().allMatch(n -> n == 1), "one row per image: " + perId);
            assertTrue(
                    attempts.keySet().stream().anyMatch(a -> !a.equals("0")),
                    "the lost task ran again: rows per task attempt " + attempts);
            assertEquals(PROMPTS, seedsPerPrompt.size(), "every prompt: " + seedsPerPrompt);
            assertTrue(
                    seedsPerPrompt.values().stream().allMatch(s -> s.size() == IMAGES_PER_PROMPT),
                    IMAGES_PER_PROMPT + " seeds per prompt: " + seedsPerPrompt);
            assertEquals(
                    Set.of("0", "1"),
                    gpuAddresses,
                    "both fake GPU addresses recorded; executors " + executors);
            assertTrue(
                    executors.contains(victimId.get()),
                    "the rows executor "
                            + victimId.get()
                            + " committed before it died are kept: "
                            + executors);
            Map<String, Long> files = imageFiles(images);
            assertEquals(
                    perId.keySet().stream().map(id -> id + ".png").collect(Collectors.toSet()),
                    files.keySet(),
                    "exactly the images, once each, no temporaries");
            phase(
                    "run checked; executors "
                            + executors
                            + ", GPU addresses "
                            + gpuAddresses
                            + ", rows per task attempt "
                            + attempts
                            + ", ms per image (sorted) "
                            + imageMillis.stream().sorted().toList());

            // 3. --resume on the same output generates nothing.
            Process resume = startDriver(cluster, "driver-resume", input, output, true, Map.of());
            cluster.awaitTrue(
                    RUN, () -> !resume.isAlive(), "the resumed run to end", "driver-resume");
            phase("resume ended");
            assertEquals(
                    0,
                    resume.exitValue(),
                    "exit code of the resumed run\n" + cluster.tail("driver-resume", 150));
            assertEquals(files, imageFiles(images), "no image written again");
            List<Map<String, String>> after = metadata(output);
            assertEquals(IMAGES, after.size(), "still one row per image");
            assertEquals(
                    perId.keySet(),
                    after.stream()
                            .filter(r -> "ok".equals(r.get("status")))
                            .map(r -> r.get("image_id"))
                            .collect(Collectors.toSet()),
                    "the same ok images");
            JsonObject counts =
                    JsonParser.parseString(Files.readString(output.resolve("run.json")))
                            .getAsJsonObject()
                            .getAsJsonObject("counts");
            assertEquals(0, counts.get("generated").getAsLong(), counts.toString());
            assertEquals(IMAGES, counts.get("resumed").getAsLong(), counts.toString());
        }
    }

    private Process startDriver(
            StandaloneCluster cluster,
            String name,
            Path input,
            Path output,
            boolean resume,
            Map<String, String> extraConf)
            throws IOException {
        List<String> args =
                new ArrayList<>(
                        GenerateArgs.of(
                                input,
                                output,
                                "--master",
                                cluster.masterUrl(),
                                "--device",
                                "cpu",
                                "--images-per-prompt",
                                Integer.toString(IMAGES_PER_PROMPT),
                                "--steps",
                                Integer.toString(STEPS),
                                "--width",
                                Integer.toString(SIZE),
                                "--height",
                                Integer.toString(SIZE),
                                "--partitions",
                                Integer.toString(PARTITIONS),
                                "--model-cache",
                                dir.resolve("model-cache").toString(),
                                "--progress-interval",
                                "1"));
        if (resume) {
            args.add("--resume");
        }
        Map<String, String> conf = new LinkedHashMap<>(StandaloneCluster.applicationConf(2, 1, 1));
        conf.putAll(extraConf);
        for (Map.Entry<String, String> e : conf.entrySet()) {
            args.add("--conf");
            args.add(e.getKey() + "=" + e.getValue());
        }
        return cluster.startJvm(
                name,
                List.of("-Xmx768m", "-Dai.djl.offline=true"),
                Cli.class.getName(),
                args,
                Map.of());
    }

    /**
     * Through the driver's REST API: an executor that has finished a task of the newest active
     * stage (the generation and metadata-writing stage once images appear) that wrote rows (so its
     * committed rows must survive it; the stage's tasks over invalid rows write none and finish
     * first) and is running another one (which its death loses) that started less than half the
     * shortest generation-only task ago.
     */
    private static Optional<String> executorToKill(int uiPort) {
        try {
            String app = application(uiPort);
            if (app == null) {
                return Optional.empty();
            }
            JsonObject stage = null;
            for (JsonElement e :
                    StandaloneCluster.getJson(uiPort, app + "/stages?status=active")
                            .getAsJsonArray()) {
                JsonObject s = e.getAsJsonObject();
                if (stage == null
                        || s.get("stageId").getAsInt() > stage.get("stageId").getAsInt()) {
                    stage = s;
                }
            }
            if (stage == null) {
                return Optional.empty();
            }
            JsonArray tasks =
                    StandaloneCluster.getJson(
                                    uiPort,
                                    app
                                            + "/stages/"
                                            + stage.get("stageId").getAsInt()
                                            + "/"
                                            + stage.get("attemptId").getAsInt()
                                            + "/taskList?length=100000")
                            .getAsJsonArray();
            // Per executor, its committed tasks (launch order) and its running one.
            Map<String, List<JsonObject>> committed = new TreeMap<>();
            Map<String, JsonObject> running = new TreeMap<>();
            for (JsonElement e : tasks) {
                JsonObject t = e.getAsJsonObject();
                String executor = t.get("executorId").getAsString();
                String status = t.get("status").getAsString();
                if (status.equals("SUCCESS") && recordsWritten(t) > 0) {
                    committed.computeIfAbsent(executor, k -> new ArrayList<>()).add(t);
                } else if (status.equals("RUNNING")) {
                    running.put(executor, t);
                }
            }
            // An executor's first task also loads the model; a later one is generation alone.
            long shortestTask = Long.MAX_VALUE;
            for (List<JsonObject> done : committed.values()) {
                done.sort(Comparator.comparing(StandaloneClusterTest::launchMillis));
                for (JsonObject t : done.subList(1, done.size())) {
                    shortestTask = Math.min(shortestTask, t.get("duration").getAsLong());
                }
            }
            if (shortestTask == Long.MAX_VALUE) {
                return Optional.empty(); // no generation-only task timed yet
            }
            // Kill only in the first half of a running task: its images are still being made, so
            // the kill cannot land while it commits or after (on a fast host a task is ~1 s).
            long now = System.currentTimeMillis();
            for (Map.Entry<String, JsonObject> e : running.entrySet()) {
                long elapsed = now - launchMillis(e.getValue());
                if (committed.containsKey(e.getKey()) && elapsed < shortestTask / 2) {
                    return Optional.of(e.getKey());
                }
            }
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // UI not up yet, or the stage moved on: poll again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code launchTime} of a REST task entry ({@code 2026-12-06T07:40:00.123GMT}), epoch ms. */
    private static long launchMillis(JsonObject task) {
        return LocalDateTime.parse(task.get("launchTime").getAsString(), REST_TIME)
                .toInstant(ZoneOffset.UTC)
                .toEpochMilli();
    }

    /** {@code taskMetrics.outputMetrics.recordsWritten} of a REST task entry; 0 when absent. */
    private static long recordsWritten(JsonObject task) {
        JsonObject metrics = task.getAsJsonObject("taskMetrics");
        JsonObject output = metrics == null ? null : metrics.getAsJsonObject("outputMetrics");
        JsonElement records = output == null ? null : output.get("recordsWritten");
        return records == null ? 0 : records.getAsLong();
    }

    /** Executor id to its Spark resources, from the driver's REST API (for the test output). */
    private static String executorResources(int uiPort) {
        try {
            Map<String, String> out = new TreeMap<>();
            for (JsonElement e :
                    StandaloneCluster.getJson(uiPort, application(uiPort) + "/executors")
                            .getAsJsonArray()) {
                JsonObject x = e.getAsJsonObject();
                out.put(x.get("id").getAsString(), String.valueOf(x.get("resources")));
            }
            return out.toString();
        } catch (IOException | RuntimeException e) {
            return "(unknown: " + e + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(interrupted)";
        }
    }

    /** {@code /api/v1/applications/<id>} of the driver's only application, or null. */
    private static String application(int uiPort) throws IOException, InterruptedException {
        JsonArray apps = StandaloneCluster.getJson(uiPort, "/api/v1/applications").getAsJsonArray();
        return apps.isEmpty()
                ? null
                : "/api/v1/applications/" + apps.get(0).getAsJsonObject().get("id").getAsString();
    }

    /**
     * The metadata table's rows (string and int columns as text), read with parquet-hadoop alone: a
     * local Spark session in the test JVM would cost more than the whole read.
     */
    private static List<Map<String, String>> metadata(Path output) throws IOException {
        List<Map<String, String>> rows = new ArrayList<>();
        List<Path> parts;
        try (Stream<Path> list = Files.list(output.resolve("metadata"))) {
            parts =
                    list.filter(p -> p.getFileName().toString().startsWith("part-"))
                            .filter(p -> p.getFileName().toString().endsWith(".parquet"))
                            .sorted()
                            .toList();
        }
        for (Path part : parts) {
            try (ParquetReader<Group> reader =
                    ParquetReader.builder(
                                    new GroupReadSupport(),
                                    new org.apache.hadoop.fs.Path(part.toUri()))
                            .build()) {
                for (Group g = reader.read(); g != null; g = reader.read()) {
                    Map<String, String> row = new HashMap<>();
                    for (String column : METADATA_COLUMNS) {
                        row.put(
                                column,
                                g.getFieldRepetitionCount(column) == 0
                                        ? null
                                        : g.getValueToString(g.getType().getFieldIndex(column), 0));
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    /** The Spark ids of the executors the worker runs now. */
    private static Set<String> executorIds(StandaloneCluster cluster) {
        Set<String> ids = new TreeSet<>();
        for (ProcessHandle p : cluster.executors()) {
            String id = StandaloneCluster.executorId(p);
            if (id != null) { // null: it exited while we looked
                ids.add(id);
            }
        }
        return ids;
    }

    private static void requireAlive(Process driver, StandaloneCluster cluster, String name) {
        if (!driver.isAlive()) {
            throw new AssertionError(
                    name
                            + " exited with "
                            + driver.exitValue()
                            + " before the kill\n"
                            + cluster.tail(name, 200));
        }
    }

    /** Files under images/ (any name, temporaries included), as name to last-modified millis. */
    private static Map<String, Long> imageFiles(Path images) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        if (!Files.isDirectory(images)) {
            return out;
        }
        try (Stream<Path> walk = Files.walk(images)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                Long previous =
                        out.put(
                                p.getFileName().toString(),
                                Files.getLastModifiedTime(p).toMillis());
                assertEquals(null, previous, "one file per name: " + p);
            }
        }
        return out;
    }

    /** Finished images ({@code <id>.png}, not temporaries) under images/. */
    private static long countImages(Path images) {
        if (!Files.isDirectory(images)) {
            return 0;
        }
        try (Stream<Path> walk = Files.walk(images)) {
            return walk.filter(p -> !p.getFileName().toString().startsWith("."))
                    .filter(p -> p.getFileName().toString().endsWith(".png"))
                    .count();
        } catch (IOException | java.io.UncheckedIOException e) {
            return 0; // a folder changed under the walk; poll again
        }
    }
}
