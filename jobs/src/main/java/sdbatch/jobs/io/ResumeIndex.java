package sdbatch.jobs.io;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FilterFunction;
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
 * What an earlier run already made: the rows of {@code <output>/metadata/} (Parquet) with status
 * {@code ok} whose image file still exists. {@code --resume} skips those images and carries their
 * rows into the new metadata, so a finished job re-run generates nothing and keeps exactly one ok
 * row per request.
 */
public final class ResumeIndex {
    private ResumeIndex() {}

    /** The metadata folder of an output root. */
    public static Path metadataPath(String output) {
        return new Path(output, "metadata");
    }

    /**
     * The earlier run's ok rows whose image exists, or null when the output has no metadata yet.
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
        HadoopConf conf = new HadoopConf(spark.sparkContext().hadoopConfiguration());
        String root = output;
        return rows.filter(col(Columns.STATUS).equalTo(lit(Status.OK.value())))
                .filter(col(Columns.IMAGE_PATH).isNotNull())
                .filter((FilterFunction<Row>) r -> imageExists(conf, root, r));
    }

    private static boolean imageExists(HadoopConf conf, String root, Row row) {
        Path image = new Path(root, row.<String>getAs(Columns.IMAGE_PATH));
        try {
            return image.getFileSystem(conf.get()).exists(image);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check " + image, e);
        }
    }

    /** The ids of {@link #okRows}; empty when there is no earlier metadata. */
    public static Set<String> okImageIds(SparkSession spark, String output) {
        Dataset<Row> ok = okRows(spark, output);
        Set<String> ids = new HashSet<>();
        if (ok != null) {
            for (Row r : ok.select(Columns.IMAGE_ID).distinct().collectAsList()) {
                ids.add(r.getString(0));
            }
        }
        return ids;
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
