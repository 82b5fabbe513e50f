package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.ExitCode;
import sdbatch.jobs.io.ImageStore;
import sdbatch.jobs.storage.ModelManifest;
import sdbatch.jobs.storage.S3TestServer;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * Issue 6, "what it must show" 1: prompt table and tiny model read from a bucket, images and
 * metadata written to the bucket through s3a, metadata read back with Spark, every PNG decoded, no
 * credential in {@code run.json}, metadata, PNGs or anything the run printed or logged.
 *
 * <p>The job runs through the command line ({@code sdbatch generate --master local[2] --input
 * s3a://… --output s3a://… --model s3a://… --conf spark.hadoop.fs.s3a.…}); the planner and the
 * pipeline-backed generator are test components (see {@link S3Fixtures#tinyPipeline}) until the
 * real ones are wired into {@code Commands.all()}.
 */
class S3EndToEndTest {
    @TempDir static Path tmp;
    static S3TestServer server;
    static String model;

    static final int SIZE = 32;
    static final int STEPS = 2;

    private static final Pattern ALLOWED_FILE =
            Pattern.compile(
                    "run\\.json|metadata/_SUCCESS|metadata/part-[^/]+\\.parquet"
                            + "|images/([0-9a-f]{2})/(\\1[0-9a-f]{30})\\.png");

    @BeforeAll
    static void startServerAndUploadModel() throws Exception {
        server = new S3TestServer(tmp.resolve("blobs")).start();
        Path local = TinyModels.write(tmp.resolve("tiny"), TinyModels.Variant.SD1, 11);
        ModelManifest.write(local);
        model = server.uri("models/tiny/");
        try (var walk = Files.walk(local)) {
            for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                S3Jobs.put(
                        server,
                        model + local.relativize(p).toString().replace('\\', '/'),
                        Files.readAllBytes(p));
            }
        }
    }

    @AfterAll
    static void stopServer() throws Exception {
        S3Fixtures.PIPELINES.close();
        if (server != null) {
            server.close();
        }
    }

    private static S3Jobs.Run generate(String input, String output, String... extra) {
        List<String> args = new ArrayList<>();
        args.addAll(List.of("--model", model, "--batch-size", "2", "--partitions", "2"));
        args.addAll(List.of(extra));
        return S3Jobs.run(
                S3Fixtures.tinyPipeline(tmp.resolve("model-cache"), 2, STEPS, SIZE),
                S3Jobs.generateArgs(server, input, output, args.toArray(new String[0])));
    }

    @Test
    void parquetTableWrittenBySparkThroughS3a() throws Exception {
        String input = server.uri("prompts/table.parquet");
        StructType schema =
                new StructType()
                        .add("prompt", DataTypes.StringType)
                        .add("seed", DataTypes.LongType)
                        .add("label", DataTypes.StringType);
        S3Jobs.withSpark(
                server,
                spark -> {
                    spark.createDataFrame(
                                    List.of(
                                            RowFactory.create("a red fox", null, "animals"),
                                            RowFactory.create("a tall tree", 42L, "plants"),
                                            RowFactory.create("", null, "empty")),
                                    schema)
                            .coalesce(1)
                            .write()
                            .parquet(input);
                    return null;
                });
        String output = server.uri("out-parquet");

        S3Jobs.Run run = generate(input, output);

        // The fox expands to seeds 0 and 1, the tree keeps seed 42, the empty prompt is invalid.
        assertEquals(ExitCode.INVALID_ROWS.code(), run.exitCode(), run.toString());
        List<Row> rows = checkOutput(output, run, 3, 1, 3);
        Row tree = only(rows, "label", "plants");
        assertEquals(42L, (long) tree.<Long>getAs("seed"));
        assertEquals("ok", tree.getAs("status"));
        assertEquals("prompt is empty", only(rows, "label", "empty").getAs("error"));
        assertEquals(1, S3Fixtures.MODEL_DOWNLOADS.get(), "one model download per host and job");
    }

    @Test
    void csvTableThenResumeReadsMetadataFromS3a() throws Exception {
        String input = server.uri("prompts/prompts.csv");
        S3Jobs.put(
                server,
                input,
                String.join(
                                "\n",
                                "id,prompt,seed,steps,label",
                                "1,a lighthouse at dusk,,,coast",
                                "2,\"a harbour, with boats\",5,,coast",
                                "3,a storm,,x,bad",
                                "")
                        .getBytes(StandardCharsets.UTF_8));
        String output = server.uri("out-csv");

        S3Jobs.Run first = generate(input, output);
        assertEquals(ExitCode.INVALID_ROWS.code(), first.exitCode(), first.toString());
        List<Row> before = checkOutput(output, first, 3, 1, 3);
        assertEquals("steps 'x' is not an integer", only(before, "label", "bad").getAs("error"));
        Map<String, String> shaBefore = shaById(before);

        // --resume finds every image ok in the s3a metadata: nothing is generated again, the old
        // rows are carried over, and the metadata is swapped in place on s3a.
        S3Jobs.Run again = generate(input, output, "--resume");
        assertEquals(ExitCode.INVALID_ROWS.code(), again.exitCode(), again.toString());
        List<Row> after = checkOutput(output, again, 3, 1, 0);
        assertEquals(shaBefore, shaById(after));
        JsonObject counts = runJson(output).getAsJsonObject("counts");
        assertEquals(3, counts.get("resumed").getAsInt());
        assertEquals(0, counts.get("generated").getAsInt());
        assertTrue(
                again.err().contains("0 requests to generate"),
                "the resumed run has nothing to do:\n" + again);
        assertEquals(1, S3Fixtures.MODEL_DOWNLOADS.get(), "later jobs reuse the model cache");
    }

    private static Map<String, String> shaById(List<Row> rows) {
        Map<String, String> m = new HashMap<>();
        for (Row r : rows) {
            if ("ok".equals(r.getAs("status"))) {
                m.put(r.getAs("image_id"), r.getAs("sha256"));
            }
        }
        return m;
    }

    private static Row only(List<Row> rows, String column, String value) {
        List<Row> hits = rows.stream().filter(r -> value.equals(r.getAs(column))).toList();
        assertEquals(1, hits.size(), column + "=" + value + " in " + rows);
        return hits.get(0);
    }

    private static JsonObject runJson(String output) throws Exception {
        return JsonParser.parseString(
                        new String(
                                S3Jobs.read(server, output + "/run.json"), StandardCharsets.UTF_8))
                .getAsJsonObject();
    }

    /**
     * Checks one finished run's output on s3a and returns its metadata rows: exactly the expected
     * files (no {@code .crc}, {@code _temporary}, staging or temporary image objects), one metadata
     * row per request, every ok image where its row says with the recorded size and SHA-256 and
     * decodable, {@code run.json} consistent, and no credential anywhere.
     */
    static List<Row> checkOutput(String output, S3Jobs.Run run, int ok, int invalid, int generated)
            throws Exception {
        TreeSet<String> files = S3Jobs.listFiles(server, output);
        for (String f : files) {
            assertTrue(
                    ALLOWED_FILE.matcher(f).matches(), "unexpected object " + f + " in " + files);
        }
        assertTrue(files.contains("run.json") && files.contains("metadata/_SUCCESS"), "" + files);

        List<Row> rows =
                S3Jobs.withSpark(
                        server,
                        spark -> spark.read().parquet(output + "/metadata").collectAsList());
        assertEquals(ok + invalid, rows.size(), "one metadata row per request: " + rows);
        Set<String> pngs = new HashSet<>();
        for (String f : files) {
            if (f.startsWith("images/")) {
                pngs.add(f);
            }
        }
        Set<String> ids = new HashSet<>();
        Map<String, Integer> statuses = new HashMap<>();
        for (Row r : rows) {
            String status = r.getAs("status");
            statuses.merge(status, 1, Integer::sum);
            for (int i = 0; i < r.length(); i++) {
                String v = String.valueOf(r.get(i));
                assertFalse(v.contains(S3TestServer.SECRET_KEY), "secret in metadata: " + r);
                assertFalse(v.contains(S3TestServer.ACCESS_KEY), "access key in metadata: " + r);
            }
            assertNotNull(r.getAs("source_row"));
            if (!"ok".equals(status)) {
                assertEquals("invalid", status, r.toString());
                assertNull(r.getAs("image_path"));
                continue;
            }
            String id = r.getAs("image_id");
            assertTrue(ids.add(id), "image " + id + " has two rows");
            String path = r.getAs("image_path");
            assertEquals("images/" + id.substring(0, 2) + "/" + id + ".png", path);
            assertEquals(output + "/" + path, r.getAs("image_uri"));
            assertTrue(pngs.remove(path), path + " is not in the bucket: " + files);
            byte[] png = S3Jobs.read(server, r.getAs("image_uri"));
            assertEquals((long) png.length, (long) r.<Long>getAs("bytes"));
            assertEquals(r.<String>getAs("sha256"), ImageStore.sha256(png));
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(image, path + " does not decode as an image");
            assertEquals(SIZE, image.getWidth());
            assertEquals(SIZE, image.getHeight());
            String bytes = new String(png, StandardCharsets.ISO_8859_1);
            assertFalse(bytes.contains(S3TestServer.SECRET_KEY), "secret in " + path);
            assertNull(r.getAs("error"));
        }
        assertEquals(Set.of(), pngs, "images without a metadata row");
        Map<String, Integer> expected = new HashMap<>();
        expected.put("ok", ok);
        if (invalid > 0) {
            expected.put("invalid", invalid);
        }
        assertEquals(expected, statuses);

        String runJson =
                new String(S3Jobs.read(server, output + "/run.json"), StandardCharsets.UTF_8);
        JsonObject json = JsonParser.parseString(runJson).getAsJsonObject();
        assertEquals(output, json.get("output").getAsString());
        JsonObject counts = json.getAsJsonObject("counts");
        assertEquals(ok, counts.get("ok").getAsInt());
        assertEquals(invalid, counts.get("invalid").getAsInt());
        assertEquals(generated, counts.get("generated").getAsInt());
        assertEquals(run.exitCode(), json.get("exit_code").getAsInt());
        // The key is recorded (so run.json shows how the job was configured), its value is not.
        assertTrue(
                json.getAsJsonObject("conf").has("spark.hadoop.fs.s3a.secret.key"),
                "conf in run.json: " + runJson);
        assertFalse(runJson.contains(S3TestServer.SECRET_KEY), "secret in run.json: " + runJson);
        assertFalse(runJson.contains(S3TestServer.ACCESS_KEY), "access key in run.json");

        assertFalse(run.all().contains(S3TestServer.SECRET_KEY), "secret printed:\n" + run.all());
        assertFalse(run.all().contains(S3TestServer.ACCESS_KEY), "access key printed");
        // Non-vacuous: the echo names the key, and the driver log was captured.
        assertTrue(run.err().contains("spark.hadoop.fs.s3a.secret.key="), run.toString());
        assertTrue(run.log().contains("SparkContext"), "log captured:\n" + run.log());
        return rows;
    }
}
