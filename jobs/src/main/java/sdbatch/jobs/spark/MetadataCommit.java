package sdbatch.jobs.spark;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import sdbatch.jobs.io.MetadataSwap;
import sdbatch.jobs.io.ResumeIndex;
import sdbatch.schemas.Columns;

/**
 * The metadata table of a run, committed whole or not at all: written through Spark's commit
 * protocol (task retries and speculative attempts never leave two rows) into a fresh staging folder
 * beside {@code metadata/}, then swapped in as {@code metadata/} by {@link MetadataSwap}, whose
 * journal lets the next run or reader finish a swap a crash interrupted (on s3a a folder rename is
 * a copy and a delete of every file). A run stopped by {@code --max-failures} swaps nothing in: the
 * earlier metadata, if any, stays.
 */
final class MetadataCommit {
    private final SparkSession spark;
    private final FileSystem fs;
    private final String output;
    private final Path root;
    private final Path staging;

    /**
     * @param root the output root, {@code output} as a path
     * @param runId names the staging folder
     */
    MetadataCommit(SparkSession spark, FileSystem fs, Path root, String output, String runId) {
        this.spark = spark;
        this.fs = fs;
        this.output = output;
        this.root = root;
        this.staging = new Path(root, "metadata.staging-" + runId);
    }

    /**
     * Writes {@code metadata} (running the jobs that generate its rows) into the staging folder.
     *
     * @param cancelled whether the driver cancelled the write ({@code --max-failures}); asked only
     *     when the write fails
     * @param awaitTasksEnded run when the write failed, before the staging folder is deleted: waits
     *     for the write's tasks still being killed, which could otherwise write into the staging
     *     folder after its delete ({@link JobGroupTasks})
     * @return true when written; false when it failed because it was cancelled (the staging folder
     *     is deleted then)
     */
    boolean write(Dataset<Row> metadata, BooleanSupplier cancelled, Runnable awaitTasksEnded)
            throws IOException {
        try {
            metadata.write().mode(SaveMode.ErrorIfExists).parquet(staging.toString());
            return true;
        } catch (Exception e) {
            // Spark's Scala code throws its checked SparkException undeclared (a cancelled job
            // group, a failed stage): catching RuntimeException only would skip this cleanup and
            // the caller's stop, staging delete and run.json.
            awaitTasksEnded.run();
            if (!cancelled.getAsBoolean()) {
                // An aborted commit leaves no half-written staging folder behind (best effort: the
                // storage that failed the commit may fail this delete too).
                try {
                    fs.delete(staging, true);
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
                if (e instanceof RuntimeException r) {
                    throw r;
                }
                if (e instanceof IOException io) {
                    throw io;
                }
                throw new IOException("writing the metadata failed: " + e.getMessage(), e);
            }
            fs.delete(staging, true);
            return false;
        }
    }

    /** Swaps the written staging folder in as {@code metadata/}; counts its rows by status. */
    Map<String, Long> swapInAndCount() throws IOException {
        Path metadata = ResumeIndex.metadataPath(output);
        MetadataSwap.swapIn(fs, root, staging);
        Map<String, Long> counts = new HashMap<>();
        for (Row r :
                spark.read()
                        .parquet(metadata.toString())
                        .groupBy(Columns.STATUS)
                        .count()
                        .collectAsList()) {
            counts.put(r.getString(0), r.getLong(1));
        }
        return counts;
    }
}
