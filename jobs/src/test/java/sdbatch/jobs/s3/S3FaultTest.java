package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.s3.Outage.Action;
import sdbatch.jobs.spark.GenerateJob;
import sdbatch.jobs.storage.S3TestServer;

/**
 * Issue 6, "what it must show" 2: the S3 server goes away during a run. What a user lives through,
 * in order:
 *
 * <ol>
 *   <li>An outage while images are being written, over before the run ends. The images stored while
 *       the server was down end {@code failed} with the reason (after ImageStore's bounded
 *       retries); images caught by a short blip may be rescued by those retries; the job goes on,
 *       commits its metadata (exactly one row per request, none lost, none twice) and exits 4.
 *   <li>{@code --resume}, and the server goes down again and stays down through the metadata
 *       commit. The job fails as a whole (exit 4, the error printed), and the metadata and {@code
 *       run.json} of the earlier run are untouched: never half a table.
 *   <li>{@code --resume} with the server back: the failed images are made, the ok ones carried over
 *       from the s3a metadata, every request ends ok with exactly one row, exit 0.
 * </ol>
 *
 * The job is the real one (the built-in tiny model at 2 steps, 16×16) with a hook in front of each
 * generate call ({@link S3Fixtures#withOutageHook()}), so the outage points are exact ({@link
 * Outage}); the s3a client fails fast ({@link S3TestServer#hadoopSettings()}).
 */
class S3FaultTest {
    @TempDir static Path tmp;
    @AutoClose static S3TestServer server;

    static final int SIZE = 16;
    static final int PROMPTS = 6;
    static final int IMAGES = 2 * PROMPTS;

    /** An aborted commit may leave its uniquely named staging folder behind; nothing else. */
    static final Pattern AFTER_ABORTED_COMMIT =
            Pattern.compile(S3Checks.FINISHED_OUTPUT.pattern() + "|metadata\\.staging-[^/]+/.+");

    @BeforeAll
    static void startServer() throws Exception {
        server = new S3TestServer(tmp.resolve("blobs")).start();
        StringBuilder csv = new StringBuilder("prompt,label\n");
        for (int i = 0; i < PROMPTS; i++) {
            csv.append("prompt number ").append(i).append(",row ").append(i).append('\n');
        }
        S3Jobs.putText(server, input(), csv.toString());
    }

    private static final long START = System.nanoTime();

    /** Phase timings in the test output: where the seconds of a slow run went. */
    private static void phase(String what) {
        System.out.printf("S3FaultTest: %.1f s: %s%n", (System.nanoTime() - START) / 1e9, what);
    }

    static String input() {
        return server.uri("prompts.csv");
    }

    /** One partition, batches of two: generate call {@code i} makes images 2i and 2i+1. */
    private static S3Jobs.Run generate(
            String output, Map<Integer, Action> outage, String... extra) {
        // Stores inline: the outage points are "before generate call i", and only inline are
        // call i's images stored before call i+1 starts. Overlapped stores go through the same
        // ImageStore and PartitionRunner.store (their failures: PartitionRunnerTest, both modes).
        List<String> flags =
                new java.util.ArrayList<>(
                        List.of(
                                "--partitions",
                                "1",
                                "--batch-size",
                                "2",
                                "--conf",
                                GenerateJob.OVERLAP_STORES_CONF + "=false"));
        flags.addAll(Arrays.asList(extra));
        flags.addAll(S3Jobs.smallJob(tmp.resolve("model-cache"), 2, SIZE));
        Outage.arm(server, outage);
        try {
            return S3Jobs.run(
                    S3Fixtures.withOutageHook(),
                    S3Jobs.generateArgs(server, input(), output, flags.toArray(new String[0])));
        } finally {
            Outage.disarm();
        }
    }

    /** Every object under {@code prefix} with its bytes. */
    private static Map<String, String> snapshot(String output, String... prefixes)
            throws Exception {
        Map<String, String> m = new LinkedHashMap<>();
        for (String f : S3Jobs.listFiles(server, output)) {
            for (String p : prefixes) {
                if (f.startsWith(p)) {
                    m.put(
                            f,
                            new String(
                                    S3Jobs.read(server, output + "/" + f),
                                    StandardCharsets.ISO_8859_1));
                }
            }
        }
        return m;
    }

    @Test
    void outageDuringWritesThenAtCommitThenResumeCompletesTheSet() throws Exception {
        String output = server.uri("out");

        // 1. Down while call 1's images are stored, up again before call 2; a 300 ms blip while
        // call 3's images are stored.
        S3Jobs.Run first =
                generate(
                        output,
                        Map.of(
                                1, Action.STOP,
                                2, Action.START,
                                3, Action.BLIP,
                                4, Action.AWAIT_RUNNING));
        phase("first run ended");
        assertEquals(IMAGES / 2, Outage.calls(), first.toString());
        List<String> down = Outage.batch(1);
        List<String> blip = Outage.batch(3);
        Set<String> all = new HashSet<>();
        for (int i = 0; i < Outage.calls(); i++) {
            all.addAll(Outage.batch(i));
        }
        assertEquals(IMAGES, all.size());
        assertEquals(ExitCode.FAILED_ROWS.code(), first.exitCode(), first.toString());

        TreeSet<String> files = S3Checks.files(server, output, S3Checks.FINISHED_OUTPUT);
        List<Row> rows = S3Checks.metadata(server, output);
        assertEquals(IMAGES, rows.size(), "one row per request: " + rows);
        Set<String> failed = new HashSet<>();
        Set<String> seen = new HashSet<>();
        for (Row r : rows) {
            seen.add(r.getAs("image_id"));
            if ("failed".equals(r.getAs("status"))) {
                failed.add(r.getAs("image_id"));
                String error = r.getAs("error");
                assertTrue(
                        error.startsWith("could not store " + output + "/images/")
                                && error.contains(" after 4 tries: "),
                        error);
            }
        }
        assertEquals(all, seen, "no request lost");
        assertTrue(failed.containsAll(down), "written while down: " + down + ", failed " + failed);
        Set<String> mayFail = new HashSet<>(down);
        mayFail.addAll(blip);
        assertTrue(mayFail.containsAll(failed), "only outage images fail: " + failed);
        assertEquals(
                Map.of("ok", IMAGES - failed.size(), "failed", failed.size()),
                S3Checks.statuses(rows));
        S3Checks.images(server, output, rows, files, SIZE);
        JsonObject json = S3Checks.runJson(server, output);
        assertEquals(failed.size(), json.getAsJsonObject("counts").get("failed").getAsInt());
        assertEquals(ExitCode.FAILED_ROWS.code(), json.get("exit_code").getAsInt());
        S3Checks.noCredentials(server, output, rows, first);

        phase("first run checked");
        // 2. --resume, and S3 goes down as the first remaining image is stored and stays down
        // through the metadata commit.
        Map<String, String> committed = snapshot(output, "metadata/", "run.json");
        S3Jobs.Run cut;
        try {
            cut = generate(output, Map.of(0, Action.STOP), "--resume");
        } finally {
            server.start();
        }
        phase("cut run ended");
        assertEquals(ExitCode.FAILED_ROWS.code(), cut.exitCode(), cut.toString());
        assertTrue(cut.err().contains("sdbatch generate failed:"), cut.toString());
        assertEquals(committed, snapshot(output, "metadata/", "run.json"), "earlier run untouched");
        S3Checks.files(server, output, AFTER_ABORTED_COMMIT);
        S3Checks.noCredentialsPrinted(cut);

        phase("cut run checked");
        // 3. --resume with S3 back completes the set.
        S3Jobs.Run last = generate(output, Map.of(), "--resume");
        phase("last run ended");
        assertEquals(ExitCode.OK.code(), last.exitCode(), last.toString());
        assertEquals(failed.size(), countImages(Outage.calls()), "only failed images made again");
        files = S3Checks.files(server, output, AFTER_ABORTED_COMMIT);
        rows = S3Checks.metadata(server, output);
        assertEquals(Map.of("ok", IMAGES), S3Checks.statuses(rows));
        Set<String> ids = new HashSet<>();
        rows.forEach(r -> ids.add(r.getAs("image_id")));
        assertEquals(all, ids, "exactly one ok row per image");
        S3Checks.images(server, output, rows, files, SIZE);
        JsonObject counts = S3Checks.runJson(server, output).getAsJsonObject("counts");
        assertEquals(IMAGES - failed.size(), counts.get("resumed").getAsInt());
        assertEquals(failed.size(), counts.get("generated").getAsInt());
        S3Checks.noCredentials(server, output, rows, last);
        assertFalse(last.err().contains("failed:"), last.toString());
    }

    private static int countImages(int calls) {
        int n = 0;
        for (int i = 0; i < calls; i++) {
            n += Outage.batch(i).size();
        }
        return n;
    }
}
