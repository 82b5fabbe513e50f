package sdbatch.jobs.io;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.spark.SparkSchemas;
import sdbatch.schemas.Columns;

/**
 * Reads a prompt table from any Hadoop path into a {@code Dataset<Row>} whose known columns ({@link
 * Columns#INPUT}) are all present, in canonical order, followed by the passthrough columns
 * untouched, followed by {@code source_row}.
 *
 * <p><b>Formats</b> by extension: {@code .csv} (optionally compressed, e.g. {@code .csv.gz}),
 * {@code .json}/{@code .jsonl}/{@code .ndjson} (JSON Lines), anything else Parquet. A directory
 * takes the format of its data files (names not starting with {@code _} or {@code .}).
 *
 * <p><b>Types never crash the job.</b> A bad cell must make its row invalid, not fail the job, so a
 * known column is either of its expected type or a string holding the raw cell:
 *
 * <ul>
 *   <li>CSV is read with every column as a string (header, RFC 4180 quoting, quoted newlines). An
 *       unquoted empty cell is null ("use the default"; for {@code negative_prompt}: none), a
 *       quoted empty cell {@code ""} the empty string in string columns and null in the others.
 *   <li>Parquet and JSON keep a column that already has the expected type, widen exactly where the
 *       conversion cannot lose anything (byte/short/int to long, byte/short to int,
 *       float/int/short/byte to double), and turn everything else into a string (nested values as
 *       JSON). The row planner parses strings and rejects, per row, what does not parse. JSON with
 *       mixed types in one column is already inferred as string by Spark; a line that is not JSON
 *       arrives in {@code _corrupt_record}.
 * </ul>
 *
 * <p><b>{@code source_row}</b> is the row's 0-based position in the table as Spark reads it, via
 * {@code zipWithIndex} (files in Spark's split order, rows in file order): unlike {@code
 * monotonically_increasing_id} it is dense and does not depend on partitioning decisions after the
 * read, so the same input files read with the same settings give the same ids in every run.
 *
 * <p>Column names match {@link Columns#input} (case-insensitive, aliases such as {@code
 * num_inference_steps}). An unreadable table, two columns meaning the same input column ({@code
 * steps} and {@code num_inference_steps}), or a missing {@code prompt} column is a {@link
 * StartupException} naming the path. A passthrough column named like a metadata column is kept and
 * renamed in the metadata ({@link SparkSchemas#passthroughName}).
 */
public final class PromptTableReader {
    private PromptTableReader() {}

    /** The table formats. */
    public enum Format {
        PARQUET,
        CSV,
        JSON
    }

    /** The format a file name implies. */
    public static Format formatOf(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (String codec : List.of(".gz", ".bz2", ".zst", ".deflate", ".lz4", ".snappy")) {
            if (n.endsWith(codec) && !n.endsWith(".parquet" + codec)) {
                n = n.substring(0, n.length() - codec.length());
                break;
            }
        }
        if (n.endsWith(".csv")) {
            return Format.CSV;
        }
        if (n.endsWith(".json") || n.endsWith(".jsonl") || n.endsWith(".ndjson")) {
            return Format.JSON;
        }
        return Format.PARQUET;
    }

    /** Reads and normalizes the table at {@code location}. */
    public static Dataset<Row> read(SparkSession spark, String location) {
        Format format = detect(spark, location);
        Dataset<Row> raw;
        try {
            switch (format) {
                case CSV:
                    raw =
                            spark.read()
                                    .option("header", "true")
                                    .option("multiLine", "true")
                                    .option("quote", "\"")
                                    .option("escape", "\"")
                                    .option("inferSchema", "false")
                                    .option("mode", "PERMISSIVE")
                                    // An unquoted empty cell is null, a quoted one ("") the empty
                                    // string (Spark's default reads both as null): SDXL tells a
                                    // missing negative prompt from "". NUL marks the unquoted
                                    // empty cell (no prompt may hold NUL).
                                    .option("nullValue", CSV_NULL)
                                    .csv(location);
                    break;
                case JSON:
                    raw = spark.read().option("mode", "PERMISSIVE").json(location);
                    break;
                default:
                    raw = spark.read().parquet(location);
            }
        } catch (Exception e) {
            // Spark reports a missing path or unreadable footer as
            // AnalysisException/SparkException.
            throw new StartupException(
                    "cannot read prompt table "
                            + location
                            + " as "
                            + format
                            + ": "
                            + e.getMessage(),
                    e);
        }
        return withSourceRow(normalize(raw, location, format == Format.CSV));
    }

    /** What Spark's CSV reader returns for an unquoted empty cell before it makes it null. */
    static final String CSV_NULL = "\u0000";

    private static Format detect(SparkSession spark, String location) {
        Path path = new Path(location);
        try {
            FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus status = fs.getFileStatus(path);
            if (!status.isDirectory()) {
                return formatOf(path.getName());
            }
            for (FileStatus child : fs.listStatus(path)) {
                String name = child.getPath().getName();
                if (child.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
                    return formatOf(name);
                }
            }
            throw new StartupException("prompt table " + location + " is an empty directory");
        } catch (IOException e) {
            throw new StartupException(
                    "cannot read prompt table " + location + ": " + e.getMessage(), e);
        }
    }

    /**
     * Maps table columns to {@link Columns#INPUT} (case-insensitive, aliases), coerces them, adds
     * missing ones as nulls; passthrough columns follow untouched.
     */
    static Dataset<Row> normalize(Dataset<Row> raw, String location) {
        return normalize(raw, location, false);
    }

    /**
     * As {@link #normalize(Dataset, String)}; {@code csv}: a quoted empty cell ({@code ""}) in a
     * column that is not a string column is null too, as an unquoted one (only text tells "none"
     * from the empty value).
     */
    static Dataset<Row> normalize(Dataset<Row> raw, String location, boolean csv) {
        StructType schema = raw.schema();
        Map<String, String> sourceOf = new LinkedHashMap<>();
        List<String> passthrough = new ArrayList<>();
        for (StructField f : schema.fields()) {
            Optional<sdbatch.schemas.Column> known = Columns.input(f.name());
            if (known.isEmpty()) {
                passthrough.add(f.name());
                continue;
            }
            String canonical = known.get().name();
            String other = sourceOf.put(canonical, f.name());
            if (other != null) {
                throw new StartupException(
                        "prompt table "
                                + location
                                + " has both "
                                + other
                                + " and "
                                + f.name()
                                + ", which both mean "
                                + canonical
                                + "; keep one");
            }
        }
        if (!sourceOf.containsKey(Columns.PROMPT)) {
            throw new StartupException(
                    "prompt table "
                            + location
                            + " has no "
                            + Columns.PROMPT
                            + " column (columns: "
                            + String.join(", ", schema.fieldNames())
                            + ")");
        }
        List<Column> columns = new ArrayList<>();
        for (sdbatch.schemas.Column c : Columns.INPUT) {
            DataType expected = SparkSchemas.type(c.type());
            String source = sourceOf.get(c.name());
            if (source == null) {
                columns.add(lit(null).cast(expected).as(c.name()));
            } else {
                Column value = col(quote(source));
                if (csv && c.type() != sdbatch.schemas.ColumnType.STRING) {
                    value = when(value.equalTo(lit("")), lit(null)).otherwise(value);
                }
                columns.add(coerce(value, schema.apply(source).dataType(), expected).as(c.name()));
            }
        }
        for (String name : passthrough) {
            columns.add(col(quote(name)));
        }
        return raw.select(columns.toArray(new Column[0]));
    }

    /** The column as {@code expected} where that is exact, else as a string (see class doc). */
    static Column coerce(Column c, DataType actual, DataType expected) {
        if (actual.equals(expected)) {
            return c;
        }
        boolean small = actual.equals(DataTypes.ByteType) || actual.equals(DataTypes.ShortType);
        if (expected.equals(DataTypes.LongType)
                && (small || actual.equals(DataTypes.IntegerType))) {
            return c.cast(expected);
        }
        if (expected.equals(DataTypes.IntegerType) && small) {
            return c.cast(expected);
        }
        if (expected.equals(DataTypes.DoubleType)
                && (small
                        || actual.equals(DataTypes.IntegerType)
                        || actual.equals(DataTypes.FloatType))) {
            return c.cast(expected);
        }
        if (actual instanceof StructType
                || actual instanceof ArrayType
                || actual instanceof MapType) {
            return to_json(c);
        }
        return c.cast(DataTypes.StringType);
    }

    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    /** Appends {@code source_row} (see class doc). */
    static Dataset<Row> withSourceRow(Dataset<Row> table) {
        StructType schema = table.schema().add(Columns.SOURCE_ROW, DataTypes.LongType, false);
        int width = table.schema().size();
        JavaRDD<Row> rows =
                table.javaRDD()
                        .zipWithIndex()
                        .map(
                                t -> {
                                    Object[] values = new Object[width + 1];
                                    for (int i = 0; i < width; i++) {
                                        values[i] = t._1().get(i);
                                    }
                                    values[width] = t._2();
                                    return RowFactory.create(values);
                                });
        return table.sparkSession().createDataFrame(rows, schema);
    }
}
