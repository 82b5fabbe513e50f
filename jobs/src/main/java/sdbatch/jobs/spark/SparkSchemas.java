package sdbatch.jobs.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The documented Spark schemas of sdbatch: the prompt table's known columns and the metadata table.
 *
 * <p>Prompt table ({@link #INPUT_COLUMNS}), all optional but {@code prompt}; null means "use the
 * default" (see {@code JobOptions} for precedence):
 *
 * <pre>
 * prompt            string   the prompt (required, non-empty)
 * negative_prompt   string
 * seed              bigint   noise seed
 * steps             int      inference steps; alias num_inference_steps
 * guidance_scale    double
 * scheduler         string   alias, diffusers class or A1111 sampler name
 * scheduler_config  string   JSON object of scheduler config overrides
 * width, height     int      pixels
 * eta               double
 * clip_skip         int
 * </pre>
 *
 * Every other input column is a passthrough column, copied untouched to the metadata after the
 * columns of {@link #METADATA}.
 *
 * <p>Metadata table: one row per expanded request (one per invalid input row), columns in the order
 * of {@link #METADATA}, then the passthrough columns. Temporary home of the column names until
 * schemas' {@code Columns} lands.
 */
public final class SparkSchemas {
    private SparkSchemas() {}

    public static final String PROMPT = "prompt";
    public static final String NEGATIVE_PROMPT = "negative_prompt";
    public static final String SEED = "seed";
    public static final String STEPS = "steps";
    public static final String STEPS_ALIAS = "num_inference_steps";
    public static final String GUIDANCE_SCALE = "guidance_scale";
    public static final String SCHEDULER = "scheduler";
    public static final String SCHEDULER_CONFIG = "scheduler_config";
    public static final String WIDTH = "width";
    public static final String HEIGHT = "height";
    public static final String ETA = "eta";
    public static final String CLIP_SKIP = "clip_skip";

    public static final String IMAGE_ID = "image_id";
    public static final String IMAGE_PATH = "image_path";
    public static final String IMAGE_URI = "image_uri";
    public static final String MODEL = "model";
    public static final String SHA256 = "sha256";
    public static final String BYTES = "bytes";
    public static final String STATUS = "status";
    public static final String ERROR = "error";
    public static final String GENERATE_MS = "generate_ms";
    public static final String WRITE_MS = "write_ms";
    public static final String BATCH_SIZE = "batch_size";
    public static final String EXECUTOR = "executor";
    public static final String DEVICE = "device";
    public static final String GPU_ADDRESS = "gpu_address";
    public static final String ATTEMPT = "attempt";
    public static final String SOURCE_ROW = "source_row";
    public static final String SDBATCH_VERSION = "sdbatch_version";

    /** Spark's column for a JSON line it could not parse (PERMISSIVE mode). */
    public static final String CORRUPT_RECORD = "_corrupt_record";

    /** The known prompt-table columns and their expected types, in canonical order. */
    public static final Map<String, DataType> INPUT_COLUMNS = inputColumns();

    /** Other names accepted for known columns (alias to canonical). */
    public static final Map<String, String> ALIASES = Map.of(STEPS_ALIAS, STEPS);

    /** The metadata columns, before the passthrough columns. */
    public static final StructType METADATA =
            new StructType(
                    new StructField[] {
                        nullable(IMAGE_ID, DataTypes.StringType),
                        nullable(IMAGE_PATH, DataTypes.StringType),
                        nullable(IMAGE_URI, DataTypes.StringType),
                        nullable(PROMPT, DataTypes.StringType),
                        nullable(NEGATIVE_PROMPT, DataTypes.StringType),
                        nullable(SEED, DataTypes.LongType),
                        nullable(STEPS, DataTypes.IntegerType),
                        nullable(GUIDANCE_SCALE, DataTypes.DoubleType),
                        nullable(SCHEDULER, DataTypes.StringType),
                        nullable(SCHEDULER_CONFIG, DataTypes.StringType),
                        nullable(WIDTH, DataTypes.IntegerType),
                        nullable(HEIGHT, DataTypes.IntegerType),
                        nullable(ETA, DataTypes.DoubleType),
                        nullable(CLIP_SKIP, DataTypes.IntegerType),
                        nullable(MODEL, DataTypes.StringType),
                        nullable(SHA256, DataTypes.StringType),
                        nullable(BYTES, DataTypes.LongType),
                        new StructField(
                                STATUS,
                                DataTypes.StringType,
                                false,
                                org.apache.spark.sql.types.Metadata.empty()),
                        nullable(ERROR, DataTypes.StringType),
                        nullable(GENERATE_MS, DataTypes.LongType),
                        nullable(WRITE_MS, DataTypes.LongType),
                        nullable(BATCH_SIZE, DataTypes.IntegerType),
                        nullable(EXECUTOR, DataTypes.StringType),
                        nullable(DEVICE, DataTypes.StringType),
                        nullable(GPU_ADDRESS, DataTypes.StringType),
                        nullable(ATTEMPT, DataTypes.IntegerType),
                        nullable(SOURCE_ROW, DataTypes.LongType),
                        nullable(SDBATCH_VERSION, DataTypes.StringType),
                    });

    /** Names no passthrough column may take (they are written by sdbatch). */
    public static final Set<String> RESERVED = Set.of(METADATA.fieldNames());

    /** The metadata schema with {@code passthrough} appended. */
    public static StructType metadata(StructType passthrough) {
        List<StructField> fields = new ArrayList<>(List.of(METADATA.fields()));
        for (StructField f : passthrough.fields()) {
            fields.add(f.copy(f.name(), f.dataType(), true, f.metadata()));
        }
        return new StructType(fields.toArray(new StructField[0]));
    }

    private static StructField nullable(String name, DataType type) {
        return new StructField(name, type, true, org.apache.spark.sql.types.Metadata.empty());
    }

    private static Map<String, DataType> inputColumns() {
        Map<String, DataType> m = new LinkedHashMap<>();
        m.put(PROMPT, DataTypes.StringType);
        m.put(NEGATIVE_PROMPT, DataTypes.StringType);
        m.put(SEED, DataTypes.LongType);
        m.put(STEPS, DataTypes.IntegerType);
        m.put(GUIDANCE_SCALE, DataTypes.DoubleType);
        m.put(SCHEDULER, DataTypes.StringType);
        m.put(SCHEDULER_CONFIG, DataTypes.StringType);
        m.put(WIDTH, DataTypes.IntegerType);
        m.put(HEIGHT, DataTypes.IntegerType);
        m.put(ETA, DataTypes.DoubleType);
        m.put(CLIP_SKIP, DataTypes.IntegerType);
        return java.util.Collections.unmodifiableMap(m);
    }
}
