package sdbatch.jobs.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.Optional;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import scala.Tuple2;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.io.ImageStore;
import sdbatch.jobs.io.ResumeIndex;
import sdbatch.schemas.Columns;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.ResultRow;
import sdbatch.schemas.util.Hashes;

/**
 * The metadata rows {@code --resume} writes for the current requests whose image is already stored
 * ({@link ResumeIndex}): one ok row per request and per duplicate, from the current input's
 * columns, with the image's size from the listing and its hash and generation columns from the
 * earlier metadata where it has them (else the image is read and hashed, once). The earlier row's
 * {@code warning} is kept where it has one: a prompt the tokenizer cut is known only where the
 * image was generated, and the image id fixes the texts and pictures it follows from.
 */
final class ResumedRows {
    private ResumedRows() {}

    /**
     * @param done the current requests whose image is stored
     * @param index the resume index (its earlier rows, if any, are joined by image id)
     * @param stored {@link ResumeIndex#stored}, broadcast
     * @param hadoopConf the output file system's settings (to hash images without metadata)
     * @param rootUri the output root, qualified as {@link ImageStore} qualifies it
     * @param model the model identity
     * @param version the sdbatch version
     * @param passNames the passthrough columns, in order
     */
    static JavaRDD<Row> of(
            JavaRDD<PlannedRequest> done,
            ResumeIndex index,
            Broadcast<Map<String, Long>> stored,
            HadoopConf hadoopConf,
            String rootUri,
            String model,
            String version,
            List<String> passNames) {
        RowsOfOneImage rows =
                new RowsOfOneImage(stored, hadoopConf, rootUri, model, version, passNames);
        JavaPairRDD<String, PlannedRequest> byId =
                done.mapToPair(p -> new Tuple2<>(p.imageId(), p));
        if (index.earlier() == null) {
            return byId.values().flatMap(p -> rows.of(p, null).iterator());
        }
        // One earlier row per image (a duplicate's row names the same image and hash).
        JavaPairRDD<String, Row> earlier =
                ResumeIndex.align(index.earlier(), SparkSchemas.METADATA)
                        .dropDuplicates(new String[] {Columns.IMAGE_ID})
                        .javaRDD()
                        .mapToPair(r -> new Tuple2<>(r.<String>getAs(Columns.IMAGE_ID), r));
        return byId.leftOuterJoin(earlier)
                .values()
                .flatMap(
                        t -> {
                            Optional<Row> old = t._2();
                            return rows.of(t._1(), old.isPresent() ? old.get() : null).iterator();
                        });
    }

    /** Builds the rows of one stored image: what every task needs for that, shipped to it once. */
    private record RowsOfOneImage(
            Broadcast<Map<String, Long>> stored,
            HadoopConf hadoopConf,
            String rootUri,
            String model,
            String version,
            List<String> passNames)
            implements Serializable {
        /**
         * The rows of {@code p} (and its duplicates), with {@code old}, its earlier row, or null.
         */
        List<Row> of(PlannedRequest p, Row old) {
            String id = p.imageId();
            String uri = rootUri + "/" + ImageStore.relativePath(id);
            long bytes = stored.value().get(id);
            Long oldBytes = old == null ? null : old.getAs(Columns.BYTES);
            String oldSha = old == null ? null : old.getAs(Columns.SHA256);
            // The earlier row's hash holds when its size is the listed one: images are never
            // replaced.
            String sha =
                    oldSha != null && oldBytes != null && oldBytes == bytes
                            ? oldSha
                            : hash(hadoopConf, uri);
            ResultRow.Timings timings = old == null ? null : timings(old);
            ResultRow.Execution execution =
                    old == null || old.getAs(Columns.EXECUTOR) == null
                            ? null
                            : new ResultRow.Execution(
                                    old.getAs(Columns.EXECUTOR),
                                    old.getAs(Columns.DEVICE),
                                    old.getAs(Columns.ATTEMPT) == null
                                            ? 0
                                            : old.<Integer>getAs(Columns.ATTEMPT),
                                    old.getAs(Columns.SDBATCH_VERSION));
            String oldWarning = old == null ? null : old.getAs(Columns.WARNING);
            String gpu = old == null ? null : old.getAs(SparkSchemas.GPU_ADDRESS);
            Integer batchSize = old == null ? null : old.getAs(SparkSchemas.BATCH_SIZE);
            List<GenerationRequest> requests = new ArrayList<>(1 + p.duplicates().size());
            requests.add(p.request());
            requests.addAll(p.duplicates());
            List<Row> out = new ArrayList<>(requests.size());
            for (int i = 0; i < requests.size(); i++) {
                ResultRow r =
                        ResultRow.of(
                                requests.get(i),
                                id,
                                model,
                                ResultRow.Outcome.written(uri, sha, bytes),
                                timings,
                                execution);
                if (oldWarning != null) {
                    r = r.withWarning(oldWarning);
                }
                out.add(
                        SparkSchemas.row(
                                r,
                                gpu,
                                batchSize,
                                i == 0 ? null : p.request().sourceRow(),
                                version,
                                passNames));
            }
            return out;
        }
    }

    /** The earlier row's timings, or null where it has none. */
    private static ResultRow.Timings timings(Row old) {
        Timestamp started = old.getAs(Columns.STARTED_AT);
        Long encode = old.getAs(Columns.ENCODE_MS);
        Long denoise = old.getAs(Columns.DENOISE_MS);
        Long decode = old.getAs(Columns.DECODE_MS);
        Long write = old.getAs(Columns.WRITE_MS);
        Long total = old.getAs(Columns.TOTAL_MS);
        if (started == null
                || encode == null
                || denoise == null
                || decode == null
                || write == null
                || total == null) {
            return null;
        }
        return new ResultRow.Timings(started.toInstant(), encode, denoise, decode, write, total);
    }

    private static String hash(HadoopConf hadoopConf, String uri) {
        Path image = new Path(uri);
        try (InputStream in = image.getFileSystem(hadoopConf.get()).open(image)) {
            return Hashes.sha256Hex(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "--resume cannot read the stored image " + image + ": " + e.getMessage(), e);
        }
    }
}
