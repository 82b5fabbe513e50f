package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.SparkSession;
import sdbatch.jobs.cli.Cli;
import sdbatch.jobs.storage.S3TestServer;

/**
 * Runs {@code sdbatch generate} the way a user does, through {@link Cli#standard()} (the real
 * {@code generate} command: model, row planner, pipeline): the Spark session comes from {@code
 * --master} and {@code --conf}, and the s3a endpoint and credentials reach Spark and Hadoop only as
 * {@code --conf spark.hadoop.fs.s3a.*} flags. Everything the run prints (stdout, stderr, and the
 * log4j log of Spark, Hadoop and the AWS SDK) is captured so tests can search it for credentials.
 */
final class S3Jobs {
    private S3Jobs() {}

    /** Everything one command-line run returned and printed. */
    record Run(int exitCode, String out, String err, String log) {
        /** stdout, stderr and the log together. */
        String all() {
            return out + "\n" + err + "\n" + log;
        }

        @Override
        public String toString() {
            String tail = log.length() > 20_000 ? "…" + log.substring(log.length() - 20_000) : log;
            return "exit "
                    + exitCode
                    + "\n--- stdout\n"
                    + out
                    + "\n--- stderr\n"
                    + err
                    + "\n--- log\n"
                    + tail;
        }
    }

    /** Spark on loopback with 2 local cores, UI off, few shuffle partitions. */
    static final List<String> SPARK_CONF =
            List.of(
                    "spark.ui.enabled=false",
                    "spark.driver.host=127.0.0.1",
                    "spark.driver.bindAddress=127.0.0.1",
                    "spark.sql.shuffle.partitions=2",
                    "spark.default.parallelism=2",
                    "spark.sql.session.timeZone=UTC");

    /**
     * {@code generate --master local[2] --input <input> --output <output>}, the Spark settings of
     * {@link #SPARK_CONF} and every s3a setting of {@code server} as {@code --conf
     * spark.hadoop.<key>=<value>} (credentials included: this is the path under test), then {@code
     * extra}.
     */
    static List<String> generateArgs(
            S3TestServer server, String input, String output, String... extra) {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "generate",
                                "--master",
                                "local[2]",
                                "--input",
                                input,
                                "--output",
                                output,
                                "--progress-interval",
                                "1"));
        for (String c : SPARK_CONF) {
            args.add("--conf");
            args.add(c);
        }
        for (Map.Entry<String, String> e : server.hadoopSettings().entrySet()) {
            args.add("--conf");
            args.add("spark.hadoop." + e.getKey() + "=" + e.getValue());
        }
        args.addAll(Arrays.asList(extra));
        return args;
    }

    /**
     * The generate flags every s3a test job uses: the tiny model at 2 steps and {@code size}×{@code
     * size}, {@code imagesPerPrompt} seeds per row without one, the model cache under {@code
     * cache}.
     */
    static List<String> smallJob(java.nio.file.Path cache, int imagesPerPrompt, int size) {
        return List.of(
                "--model-cache",
                cache.toString(),
                "--images-per-prompt",
                Integer.toString(imagesPerPrompt),
                "--steps",
                "2",
                "--width",
                Integer.toString(size),
                "--height",
                Integer.toString(size));
    }

    /** Runs the real {@code sdbatch} with {@code args} (see {@link #run(Cli, List)}). */
    static Run run(List<String> args) {
        return run(Cli.standard(), args);
    }

    /**
     * Runs {@code cli} with {@code args}. No Spark session may be active before (the command must
     * build its own from the flags, or the {@code --conf} path would not be tested); none is left
     * after.
     */
    static Run run(Cli cli, List<String> args) {
        assertTrue(
                SparkSession.getActiveSession().isEmpty()
                        && SparkSession.getDefaultSession().isEmpty(),
                "a Spark session is still active; the job must build its own from --conf");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        String log;
        try (LogCapture capture = new LogCapture()) {
            code =
                    cli.run(
                            args,
                            new PrintStream(out, true, StandardCharsets.UTF_8),
                            new PrintStream(err, true, StandardCharsets.UTF_8));
            log = capture.text();
        } finally {
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
        return new Run(
                code,
                out.toString(StandardCharsets.UTF_8),
                err.toString(StandardCharsets.UTF_8),
                log);
    }

    /**
     * Runs {@code body} with a fresh Spark session configured for {@code server} (the test's own
     * reader and writer), and stops it afterwards.
     */
    static <T> T withSpark(S3TestServer server, Function<SparkSession, T> body) {
        SparkSession.Builder builder =
                SparkSession.builder().appName("sdbatch s3 test").master("local[2]");
        for (String c : SPARK_CONF) {
            int eq = c.indexOf('=');
            builder.config(c.substring(0, eq), c.substring(eq + 1));
        }
        server.hadoopSettings().forEach((k, v) -> builder.config("spark.hadoop." + k, v));
        SparkSession spark = builder.getOrCreate();
        try {
            return body.apply(spark);
        } finally {
            spark.stop();
            SparkSession.clearActiveSession();
            SparkSession.clearDefaultSession();
        }
    }

    private static FileSystem fs(S3TestServer server, String uri) throws IOException {
        return new Path(uri).getFileSystem(server.hadoopConfiguration());
    }

    /** Writes {@code bytes} to {@code uri} through s3a. */
    static void put(S3TestServer server, String uri, byte[] bytes) throws IOException {
        try (OutputStream out = fs(server, uri).create(new Path(uri), true)) {
            out.write(bytes);
        }
    }

    /** Writes {@code text} (a prompt table, say) to {@code uri} through s3a, as UTF-8. */
    static void putText(S3TestServer server, String uri, String text) throws IOException {
        put(server, uri, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Reads {@code uri} through s3a. */
    static byte[] read(S3TestServer server, String uri) throws IOException {
        try (InputStream in = fs(server, uri).open(new Path(uri))) {
            return in.readAllBytes();
        }
    }

    /**
     * Every file (object) under {@code uri}, recursively, as paths relative to it, sorted. s3a
     * directory markers are not files and are not listed.
     */
    static TreeSet<String> listFiles(S3TestServer server, String uri) throws IOException {
        FileSystem fs = fs(server, uri);
        Path root = fs.makeQualified(new Path(uri));
        String prefix = root.toString().endsWith("/") ? root.toString() : root + "/";
        TreeSet<String> files = new TreeSet<>();
        if (!fs.exists(root)) {
            return files;
        }
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
            String p = it.next().getPath().toString();
            if (!p.startsWith(prefix)) {
                throw new IllegalStateException(p + " is not under " + prefix);
            }
            files.add(p.substring(prefix.length()));
        }
        return files;
    }
}
