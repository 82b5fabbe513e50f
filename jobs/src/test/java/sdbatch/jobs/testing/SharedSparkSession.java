package sdbatch.jobs.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * One {@code local[2]} (or {@link #master()}) Spark session per test class: UI off, driver bound to
 * loopback, few shuffle partitions, one-second executor heartbeats, so Spark tests start in seconds
 * and never open a public port. Subclasses use {@link #spark}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class SharedSparkSession {
    protected SparkSession spark;

    /**
     * The session's master: {@code local[2]}, or what a subclass needs (one task slot, so that its
     * tasks run one after another on the JVM's one pipeline).
     */
    protected String master() {
        return "local[2]";
    }

    @BeforeAll
    void startSpark() {
        spark =
                SparkSession.builder()
                        .appName(getClass().getSimpleName())
                        .master(master())
                        .config("spark.ui.enabled", "false")
                        .config("spark.driver.host", "127.0.0.1")
                        .config("spark.driver.bindAddress", "127.0.0.1")
                        .config("spark.sql.shuffle.partitions", "2")
                        .config("spark.default.parallelism", "2")
                        .config("spark.sql.session.timeZone", "UTC")
                        // What `sdbatch generate --progress-interval 1` sets: running tasks'
                        // counts reach the driver every second, so progress and --max-failures
                        // tests do not depend on how fast this machine finishes a partition
                        // (with Spark's 10 s default a fast CPU ends the tasks first).
                        .config("spark.executor.heartbeatInterval", "1s")
                        .getOrCreate();
    }

    @AfterAll
    void stopSpark() {
        if (spark != null) {
            spark.stop();
            spark = null;
        }
        SparkSession.clearActiveSession();
        SparkSession.clearDefaultSession();
    }

    /**
     * Runs {@code sdbatch generate --input input --output out flags...} in-process, asserts it
     * exits 0 (its log as the message) and returns {@link #metadata} of {@code out}.
     */
    protected List<Row> generate(Path input, Path out, String... flags) {
        GenerateArgs.CliRun run = GenerateArgs.run(GenerateArgs.of(input, out, flags));
        assertEquals(0, run.code(), run.text());
        return metadata(out);
    }

    /** Every row of the metadata table a job wrote under {@code out}. */
    protected List<Row> metadata(Path out) {
        return spark.read().parquet(out.resolve("metadata").toString()).collectAsList();
    }

    /** {@link #metadata} by the input's {@code id} column (a later row of an id wins). */
    protected Map<String, Row> metadataById(Path out) {
        Map<String, Row> byId = new HashMap<>();
        for (Row r : metadata(out)) {
            byId.put(r.getAs("id"), r);
        }
        return byId;
    }
}
