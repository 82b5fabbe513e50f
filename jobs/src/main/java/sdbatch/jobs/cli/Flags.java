package sdbatch.jobs.cli;

/**
 * Every command-line flag, with its default beside it. One place, so the parser, the help text and
 * the README cannot drift apart. See {@link JobOptions} for the precedence of flags over row
 * columns and model defaults.
 */
public final class Flags {
    private Flags() {}

    /** Model folder or URI (diffusers layout). None: the built-in tiny random-weight model. */
    public static final String MODEL = "--model";

    /** Prompt table: Parquet file or directory, {@code .csv}, {@code .jsonl}/{@code .json}. */
    public static final String INPUT = "--input";

    /** Output root (local folder or Hadoop URI): {@code images/}, {@code metadata/}, run.json. */
    public static final String OUTPUT = "--output";

    /** Spark master URL. */
    public static final String MASTER = "--master";

    public static final String MASTER_DEFAULT = "local[*]";

    /** A Spark or Hadoop ({@code spark.hadoop.*}) setting {@code key=value}; repeatable. */
    public static final String CONF = "--conf";

    /** Seeds to sweep over, e.g. {@code 0-99,1234}, for rows without a {@code seed}. */
    public static final String SEEDS = "--seeds";

    /** Images per row with seeds derived from the row, for rows without a {@code seed}. */
    public static final String IMAGES_PER_PROMPT = "--images-per-prompt";

    public static final int IMAGES_PER_PROMPT_DEFAULT = 1;

    /** Guidance scales to sweep over, e.g. {@code 1.5,3,7.5}, for rows without one. */
    public static final String GUIDANCE = "--guidance";

    /** Step counts to sweep over, e.g. {@code 20,50}, for rows without {@code steps}. */
    public static final String STEPS = "--steps";

    /** Schedulers to sweep over, e.g. {@code euler_a,dpmpp_2m}, for rows without one. */
    public static final String SCHEDULERS = "--schedulers";

    /**
     * Strengths to sweep over, e.g. {@code 0.3,0.5,0.8}, for rows with an {@code init_image} and
     * without {@code strength}.
     */
    public static final String STRENGTHS = "--strengths";

    /** The largest init picture or mask, in pixels or as {@code WxH}; default 4096x4096. */
    public static final String MAX_INPUT_PIXELS = "--max-input-pixels";

    /** Image width for rows without {@code width}. None: the model's default size. */
    public static final String WIDTH = "--width";

    /** Image height for rows without {@code height}. None: the model's default size. */
    public static final String HEIGHT = "--height";

    /** Skip images already {@code ok} in the output's metadata. */
    public static final String RESUME = "--resume";

    /** Largest batch of compatible requests generated together. */
    public static final String BATCH_SIZE = "--batch-size";

    public static final int BATCH_SIZE_DEFAULT = 1;

    /**
     * {@code auto} (the task's GPU if Spark assigned one, else CPU), {@code cpu} or {@code gpu}.
     */
    public static final String DEVICE = "--device";

    public static final String DEVICE_DEFAULT = "auto";

    /** Model weights' data type on the device. */
    public static final String DTYPE = "--dtype";

    public static final String DTYPE_DEFAULT = "fp32";

    /**
     * Local folder where executors keep their copy of a remote ({@code s3a://}, {@code hdfs://})
     * model and where the built-in tiny model is written; owner-only (mode 700). Precedence: this
     * flag, else {@code SDBATCH_MODEL_CACHE} in each JVM's environment, else {@code
     * ~/.cache/sdbatch/models} ({@code $XDG_CACHE_HOME} honoured), else {@code
     * <java.io.tmpdir>/sdbatch-models-<user>} ({@code ModelSpec.cacheRoot}).
     */
    public static final String MODEL_CACHE = "--model-cache";

    /**
     * {@code make-tiny-model}: {@code sd1}, {@code sd2v}, {@code sd15-shaped}, {@code sdxl}, {@code
     * sdxl-shaped}, {@code sd3} or {@code sd3-medium-shaped}.
     */
    public static final String VARIANT = "--variant";

    public static final String VARIANT_DEFAULT = "sd1";

    /** {@code make-tiny-model}: the seed of the random weights. */
    public static final String SEED = "--seed";

    /** Stop the job once more than this many generations failed; -1: never stop early. */
    public static final String MAX_FAILURES = "--max-failures";

    public static final long MAX_FAILURES_DEFAULT = -1L;

    /** Number of generation partitions. None: Spark's default parallelism. */
    public static final String PARTITIONS = "--partitions";

    /** Seconds between progress log lines. */
    public static final String PROGRESS_INTERVAL = "--progress-interval";

    public static final int PROGRESS_INTERVAL_DEFAULT = 10;

    /** {@code tokenize}: one JSON object per line. */
    public static final String JSON = "--json";

    /** {@code tokenize}: read prompts from this file, one per line. */
    public static final String FILE = "--file";

    /**
     * Spark's INFO logs and libtorch's warnings, which are off by default (WARN and ERROR only; see
     * {@code sdbatch.jobs.cli.Logs}).
     */
    public static final String VERBOSE = "--verbose";

    /** A LoRA for rows whose {@code loras} is null: {@code URI[:weight]}, repeatable. */
    public static final String LORA = "--lora";

    /** Where a prompt's {@code <lora:NAME:WEIGHT>} tags find {@code NAME.safetensors}. */
    public static final String LORA_DIR = "--lora-dir";

    /** A folder of textual-inversion embeddings loaded into every pipeline. */
    public static final String EMBEDDINGS = "--embeddings";

    /** The ControlNet folder for rows whose {@code controlnet} is null. */
    public static final String CONTROLNET = "--controlnet";

    /**
     * A diffusers {@code AutoencoderKL} folder ({@code config.json} and weights) used instead of
     * the model's {@code vae/} (issue 16: SDXL with a separate fp16-safe VAE), every family; its
     * content hash joins the model identity.
     */
    public static final String VAE = "--vae";

    /**
     * SD3 (issue 19): load no T5 encoder and use zeros for its part, as diffusers does with {@code
     * text_encoder_3=None}; part of the model identity (other images). No effect on models without
     * T5.
     */
    public static final String WITHOUT_T5 = "--without-t5";

    /**
     * {@code tokenize} on an SD3 model (issue 19): the T5 length its {@code tokenizer_3} ids are
     * padded and cut to, 1..512 (default 256, as the {@code max_sequence_length} column's).
     */
    public static final String MAX_SEQUENCE_LENGTH = "--max-sequence-length";

    /** Guidance rescale values swept for rows whose {@code guidance_rescale} is null. */
    public static final String GUIDANCE_RESCALE = "--guidance-rescale";

    /** Print the command's help. */
    public static final String HELP = "--help";
}
