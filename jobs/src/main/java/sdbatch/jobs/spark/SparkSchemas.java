package sdbatch.jobs.spark;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import sdbatch.schemas.Column;
import sdbatch.schemas.ColumnType;
import sdbatch.schemas.Columns;
import sdbatch.schemas.ResultRow;

/**
 * The Spark schemas of sdbatch, derived from schemas' {@link Columns} (the one written-down
 * schema): the prompt table's known columns ({@link Columns#INPUT}) and the metadata table ({@link
 * Columns#OUTPUT}, then {@link #JOB_COLUMNS}, then the passthrough columns). Every field carries
 * its column's documentation as its Spark comment.
 *
 * <p>{@link #JOB_COLUMNS} are what only the Spark job knows: the GPU address Spark assigned to the
 * task (recorded even when {@code --device cpu} ignores it), the batch an image ran in, and for a
 * duplicate request the {@code source_row} whose generation it shares.
 */
public final class SparkSchemas {
    private SparkSchemas() {}

    /** The GPU address Spark assigned to the task, null when none. */
    public static final String GPU_ADDRESS = "gpu_address";

    /** How many requests were generated together with this one. */
    public static final String BATCH_SIZE = "batch_size";

    /** For a duplicate request: the {@code source_row} of the request that generated the image. */
    public static final String DUPLICATE_OF = "duplicate_of";

    /** Spark's column for a JSON line it could not parse (PERMISSIVE mode). */
    public static final String CORRUPT_RECORD = "_corrupt_record";

    /** The job-only metadata columns, after {@link Columns#OUTPUT}. */
    public static final List<Column> JOB_COLUMNS =
            List.of(
                    new Column(
                            GPU_ADDRESS,
                            ColumnType.STRING,
                            true,
                            "GPU address Spark assigned to the task (kept with --device cpu)."),
                    new Column(
                            BATCH_SIZE,
                            ColumnType.INT,
                            true,
                            "Requests generated in the same batch (1 after a retry alone)."),
                    new Column(
                            DUPLICATE_OF,
                            ColumnType.LONG,
                            true,
                            "For a request equal to an earlier one: that one's source_row."));

    /**
     * Names written by sdbatch itself (lower case); a passthrough column is renamed around them.
     */
    private static final Set<String> RESERVED =
            Stream.concat(Columns.OUTPUT.stream(), JOB_COLUMNS.stream())
                    .map(c -> c.name().toLowerCase(Locale.ROOT))
                    .collect(Collectors.toUnmodifiableSet());

    /** The metadata columns before the passthrough columns. */
    public static final StructType METADATA = struct(allOutput());

    /** The Spark type of a column type. */
    public static DataType type(ColumnType t) {
        return switch (t) {
            case STRING -> DataTypes.StringType;
            case INT -> DataTypes.IntegerType;
            case LONG -> DataTypes.LongType;
            case DOUBLE -> DataTypes.DoubleType;
            case TIMESTAMP -> DataTypes.TimestampType;
            case BOOLEAN -> DataTypes.BooleanType;
        };
    }

    /** The Spark field of a column (nullable as documented, doc as comment). */
    public static StructField field(Column c) {
        return new StructField(c.name(), type(c.type()), c.nullable(), Metadata.empty())
                .withComment(c.doc());
    }

    /** The metadata name of a passthrough column (renamed {@code input_<name>} on a clash). */
    public static String passthroughName(String name) {
        String out = Columns.passthroughOutputName(name);
        while (RESERVED.contains(out.toLowerCase(Locale.ROOT))) {
            out = "input_" + out;
        }
        return out;
    }

    /** The metadata schema with the passthrough columns (input names and types) appended. */
    public static StructType metadata(StructType passthrough) {
        List<StructField> fields = new ArrayList<>(List.of(METADATA.fields()));
        for (StructField f : passthrough.fields()) {
            fields.add(
                    new StructField(passthroughName(f.name()), f.dataType(), true, f.metadata()));
        }
        return new StructType(fields.toArray(new StructField[0]));
    }

    /**
     * One metadata row.
     *
     * @param r the result
     * @param gpuAddress the task's assigned GPU, or null
     * @param batchSize the batch size, or null
     * @param duplicateOf the source row of the generated twin, or null
     * @param version sdbatch version (filled when the row's execution is unknown)
     * @param passthrough the input's passthrough column names, in table order
     */
    public static Row row(
            ResultRow r,
            String gpuAddress,
            Integer batchSize,
            Long duplicateOf,
            String version,
            List<String> passthrough) {
        List<Object> values = new ArrayList<>(METADATA.size() + passthrough.size());
        for (Column c : Columns.OUTPUT) {
            Object v = r.value(c.name());
            if (v instanceof Instant i) {
                v = Timestamp.from(i);
            } else if (v == null && c.name().equals(Columns.SDBATCH_VERSION)) {
                v = version;
            }
            values.add(v);
        }
        values.add(gpuAddress);
        values.add(batchSize);
        values.add(duplicateOf);
        Map<String, Object> pass = r.passthrough();
        for (String name : passthrough) {
            values.add(pass.get(name));
        }
        return RowFactory.create(values.toArray());
    }

    private static List<Column> allOutput() {
        List<Column> all = new ArrayList<>(Columns.OUTPUT);
        all.addAll(JOB_COLUMNS);
        return all;
    }

    private static StructType struct(List<Column> columns) {
        return new StructType(
                columns.stream().map(SparkSchemas::field).toArray(StructField[]::new));
    }
}
