package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.storage.S3TestServer;

/**
 * Issue 6, "what it must show" 1: prompt table and tiny model read from a bucket, images and
 * metadata written to the bucket through s3a, metadata read back with Spark, every PNG decoded, no
 * credential in {@code run.json}, metadata, PNGs or anything the run printed or logged.
 *
 * <p>The real job runs through the real command line ({@code sdbatch generate --master local[2]
 * --input s3a://… --output s3a://… --model s3a://… --model-cache DIR --conf spark.hadoop.fs.s3a.…})
 * on a TinyModels SD1 model uploaded to the bucket, at 2 steps and 32×32. The model is copied once
 * into the cache and reused by the next job. {@code --resume} against s3a metadata is in {@link
 * S3FaultTest}.
 *
 * <p>The metadata goes through Spark's commit protocol with its default, the classic {@code
 * FileOutputCommitter}, whose task and job commits are renames: on s3a a copy per file, slow and
 * not atomic, but correct against a single consistent server like s3proxy (and modern S3). For
 * production, {@code deploy/spark-defaults.conf.example} configures the S3A magic committer
 * (multipart uploads that become visible only at job commit), which needs {@code
 * spark-hadoop-cloud} on the classpath and is therefore not what this test runs.
 */
class S3EndToEndTest {
    @TempDir static Path tmp;
    @AutoClose static S3TestServer server;
    static String model;

    static final int SIZE = 32;
    static final int STEPS = 2;
    static final String PARQUET = "prompts/table.parquet";
    static final String CSV = "prompts/prompts.csv";

    @BeforeAll
    static void startServerAndUpload() throws Exception {
        server = new S3TestServer(tmp.resolve("blobs")).start();
        model = S3Fixtures.uploadTinyModel(server, tmp, 11);
        // A Parquet table written by Spark through s3a (Spark's commit protocol on s3proxy) ...
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
                                            RowFactory.create(null, null, "no prompt")),
                                    schema)
                            .coalesce(1)
                            .write()
                            .parquet(server.uri(PARQUET));
                    return null;
                });
        // ... and a CSV put as one object.
        S3Jobs.putText(
                server,
                server.uri(CSV),
                String.join(
                        "\n",
                        "id,prompt,seed,steps,label",
                        "1,a lighthouse at dusk,,,coast",
                        "2,\"a harbour, with boats\",5,,coast",
                        "3,a storm,,x,bad",
                        ""));
    }

    /** Model copies made by the runs of this class (ModelCache's log line per download). */
    static final AtomicInteger MODEL_DOWNLOADS = new AtomicInteger();

    private static S3Jobs.Run generate(String input, String output) {
        List<String> extra =
                new ArrayList<>(
                        List.of("--model", model, "--batch-size", "2", "--partitions", "2"));
        extra.addAll(S3Jobs.smallJob(cache(), 2, SIZE));
        S3Jobs.Run run =
                S3Jobs.run(
                        S3Jobs.generateArgs(server, input, output, extra.toArray(new String[0])));
        MODEL_DOWNLOADS.addAndGet(occurrences(run.log(), "ModelCache: copied model "));
        return run;
    }

    private static Path cache() {
        return tmp.resolve("model-cache");
    }

    private static int occurrences(String text, String what) {
        int n = 0;
        for (int i = text.indexOf(what); i >= 0; i = text.indexOf(what, i + 1)) {
            n++;
        }
        return n;
    }

    /** The model copies in the cache (its entries; dot-folders are locks and temporaries). */
    private static List<String> cacheEntries() throws Exception {
        try (Stream<Path> list = Files.list(cache())) {
            return list.map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("."))
                    .toList();
        }
    }

    /** Runs the job on {@code input} and checks what every s3a run must leave. */
    private static List<Row> generateAndCheck(String input, String output, int ok, int invalid)
            throws Exception {
        S3Jobs.Run run = generate(input, output);
        assertEquals(ExitCode.INVALID_ROWS.code(), run.exitCode(), run.toString());
        TreeSet<String> files = S3Checks.files(server, output, S3Checks.FINISHED_OUTPUT);
        List<Row> rows = S3Checks.metadata(server, output);
        assertEquals(ok + invalid, rows.size(), "one metadata row per request: " + rows);
        assertEquals(Map.of("ok", ok, "invalid", invalid), S3Checks.statuses(rows));
        S3Checks.images(server, output, rows, files, SIZE);
        JsonObject json = S3Checks.runJson(server, output);
        assertEquals(output, json.get("output").getAsString());
        assertEquals(input, json.get("input").getAsString());
        assertEquals(model, json.get("model").getAsString());
        assertEquals(ok, json.getAsJsonObject("counts").get("generated").getAsInt());
        assertEquals(invalid, json.getAsJsonObject("counts").get("invalid").getAsInt());
        assertEquals(run.exitCode(), json.get("exit_code").getAsInt());
        S3Checks.noCredentials(server, output, rows, run);
        // Every later job on this host finds the model in the cache.
        assertEquals(1, MODEL_DOWNLOADS.get(), "one model download per host");
        assertEquals(1, cacheEntries().size(), "one model copy in the cache: " + cacheEntries());
        return rows;
    }

    @Test
    void parquetTableWrittenBySparkThroughS3a() throws Exception {
        // The fox expands to two seeds derived from the row (--images-per-prompt 2), the tree
        // keeps seed 42, the row without a prompt is invalid.
        List<Row> rows = generateAndCheck(server.uri(PARQUET), server.uri("out-parquet"), 3, 1);
        Row tree = S3Checks.where(rows, "label", "plants").get(0);
        assertEquals(42L, (long) tree.<Long>getAs("seed"));
        assertEquals("ok", tree.getAs("status"));
        assertEquals(STEPS, (int) tree.<Integer>getAs("steps"));
        List<Row> fox = S3Checks.where(rows, "label", "animals");
        assertEquals(2, fox.size());
        assertNotEquals(fox.get(0).<Long>getAs("seed"), fox.get(1).<Long>getAs("seed"));
        assertEquals(
                "prompt null: is required (an empty string is allowed)",
                S3Checks.where(rows, "label", "no prompt").get(0).getAs("error"));
    }

    @Test
    void csvObject() throws Exception {
        List<Row> rows = generateAndCheck(server.uri(CSV), server.uri("out-csv"), 3, 1);
        assertEquals(
                "steps \"x\": is not an integer (column steps has type INT, got String)",
                S3Checks.where(rows, "label", "bad").get(0).getAs("error"));
        Row harbour = S3Checks.where(rows, "prompt", "a harbour, with boats").get(0);
        assertEquals(5L, (long) harbour.<Long>getAs("seed"));
        assertEquals("2", harbour.getAs("id"), "passthrough column kept");
    }
}
