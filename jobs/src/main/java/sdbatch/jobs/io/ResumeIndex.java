package sdbatch.jobs.io;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import sdbatch.jobs.cli.StartupException;
import sdbatch.schemas.Columns;
import sdbatch.schemas.Status;

/**
 * What earlier runs already made, for {@code --resume}.
 *
 * <p><b>The images are the record.</b> An image is done when its file is under {@code
 * <output>/images/}: the {@link ImageStore} only ever creates the final name, whole (a hidden
 * temporary renamed or linked into place, or one PUT), and never replaces it, and the image id is a
 * hash of the model identity and the full request (which the PNG's text chunks also carry). So an
 * image stored by a run whose driver died before its metadata commit counts exactly like one of a
 * finished run, and is never generated again. The index is one recursive listing of {@code images/}
 * (one paged LIST on an object store, no request per row), taken once on the driver.
 *
 * <p><b>The metadata is rebuilt from the current input.</b> Each current request whose image is
 * stored gets its own ok row (duplicates too), with the request columns and passthrough columns of
 * the current input; an earlier run's rows for requests no longer in the input are dropped. The
 * {@code sha256} and the generation columns (timings, executor, device, attempt, GPU, batch) come
 * from the earlier committed metadata's ok row of the same image where it has one of the listed
 * size; an image whose metadata was never committed is read once and hashed, and its generation
 * columns are null.
 */
public record ResumeIndex(Map<String, Long> stored, Dataset<Row> earlier) {

    /** The metadata folder of an output root. */
    public static Path metadataPath(String output) {
        return new Path(output, "metadata");
    }

    /**
     * Lists the stored images and reads the earlier metadata of {@code output}, after finishing a
     * metadata swap a crash left half done ({@link MetadataSwap#recover}).
     *
     * @throws StartupException when the output cannot be listed or its metadata cannot be read
     */
    public static ResumeIndex load(SparkSession spark, String output) {
        Path root = new Path(output);
        Map<String, Long> stored;
        try {
            FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
            stored = storedImages(fs, root);
        } catch (IOException e) {
            throw new StartupException(
                    "cannot list the images of " + output + " for --resume: " + e.getMessage(), e);
        }
        return new ResumeIndex(stored, okRows(spark, output));
    }

    /**
     * The images stored under {@code root/images}: image id to size in bytes, from one recursive
     * listing. Hidden names (temporaries of unfinished or killed attempts) and names that are not
     * {@code <prefix>/<image id>.png} are not images.
     */
    public static Map<String, Long> storedImages(FileSystem fs, Path root) throws IOException {
        Map<String, Long> stored = new HashMap<>();
        Path images = new Path(root, "images");
        if (!fs.exists(images)) {
            return stored;
        }
        RemoteIterator<LocatedFileStatus> files = fs.listFiles(images, true);
        while (files.hasNext()) {
            LocatedFileStatus f = files.next();
            String name = f.getPath().getName();
            if (name.startsWith(".") || !name.endsWith(".png")) {
                continue;
            }
            String id = name.substring(0, name.length() - ".png".length());
            String prefix = f.getPath().getParent().getName();
            if (!id.startsWith(prefix) || prefix.length() != 2) {
                continue;
            }
            try {
                ImageStore.relativePath(id);
            } catch (IllegalArgumentException notAnImageId) {
                continue;
            }
            stored.put(id, f.getLen());
        }
        return stored;
    }

    /**
     * The earlier committed metadata's ok rows, or null when the output has no metadata yet.
     * Whether their images still exist is for the caller to check against {@link #stored}.
     *
     * @throws StartupException when metadata exists but cannot be read
     */
    public static Dataset<Row> okRows(SparkSession spark, String output) {
        Path metadata = metadataPath(output);
        try {
            FileSystem fs = metadata.getFileSystem(spark.sparkContext().hadoopConfiguration());
            // A swap a crash interrupted is finished first: its new table is the one to read.
            MetadataSwap.recover(fs, new Path(output));
            if (!fs.exists(metadata)) {
                return null;
            }
        } catch (IOException e) {
            throw new StartupException("cannot read " + metadata + ": " + e.getMessage(), e);
        }
        Dataset<Row> rows;
        try {
            rows = spark.read().parquet(metadata.toString());
        } catch (Exception e) {
            throw new StartupException(
                    "cannot read earlier metadata " + metadata + " for --resume: " + e.getMessage(),
                    e);
        }
        return rows.filter(col(Columns.STATUS).equalTo(lit(Status.OK.value())))
                .filter(col(Columns.IMAGE_ID).isNotNull());
    }

    /** The ids of the images stored under {@code output} (see {@link #storedImages}). */
    public static Set<String> okImageIds(SparkSession spark, String output) {
        // A copy: a map's key view is not serializable, and callers broadcast the set.
        return new HashSet<>(load(spark, output).stored().keySet());
    }

    /**
     * {@code rows} with exactly the columns of {@code target}, in its order: missing columns
     * (passthrough columns the earlier run did not have) are null, others cast to the target type.
     */
    public static Dataset<Row> align(Dataset<Row> rows, StructType target) {
        List<String> have = List.of(rows.schema().fieldNames());
        Column[] columns = new Column[target.size()];
        int i = 0;
        for (StructField f : target.fields()) {
            columns[i++] =
                    (have.contains(f.name())
                                    ? col("`" + f.name().replace("`", "``") + "`")
                                            .cast(f.dataType())
                                    : lit(null).cast(f.dataType()))
                            .as(f.name());
        }
        return rows.select(columns);
    }
}
