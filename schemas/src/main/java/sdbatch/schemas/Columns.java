package sdbatch.schemas;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The prompt-table and metadata-table schemas, written down once. The Spark layer derives its
 * {@code StructType}s from {@link #INPUT} and {@link #OUTPUT}; the README table lists the same
 * columns with the same docs.
 *
 * <p>Input: every column is optional except {@value #PROMPT}; a null value means "use the default"
 * (see {@link GenerationRequest} for the precedence). Column names match case-insensitively and
 * through {@link #ALIASES} (e.g. {@code num_inference_steps} → {@code steps}, the diffusers
 * argument name). Every other input column is a passthrough column, copied untouched to the
 * metadata.
 *
 * <p>Output: one metadata row per expanded request (or per invalid input row), the columns of
 * {@link #OUTPUT} in that order followed by the passthrough columns. A passthrough column whose
 * name is taken by an output column is written as {@link #passthroughOutputName(String)}.
 */
public final class Columns {
    private Columns() {}

    // Input and output (shared names).
    public static final String PROMPT = "prompt";
    public static final String NEGATIVE_PROMPT = "negative_prompt";
    public static final String SEED = "seed";
    public static final String STEPS = "steps";
    public static final String GUIDANCE_SCALE = "guidance_scale";
    public static final String SCHEDULER = "scheduler";
    public static final String SCHEDULER_CONFIG = "scheduler_config";
    public static final String WIDTH = "width";
    public static final String HEIGHT = "height";
    public static final String ETA = "eta";
    public static final String CLIP_SKIP = "clip_skip";

    // Input pictures (img2img and inpainting), input and output.
    public static final String INIT_IMAGE = "init_image";
    public static final String MASK_IMAGE = "mask_image";
    public static final String STRENGTH = "strength";
    public static final String PASTE_BACK = "paste_back";
    // LoRA and ControlNet (issue 18), input and output.
    public static final String LORAS = "loras";
    public static final String CONTROLNET = "controlnet";
    public static final String CONTROL_IMAGE = "control_image";
    public static final String CONTROLNET_CONDITIONING_SCALE = "controlnet_conditioning_scale";
    public static final String CONTROL_GUIDANCE_START = "control_guidance_start";
    public static final String CONTROL_GUIDANCE_END = "control_guidance_end";

    // SDXL and SD3 (issues 16, 19), input and output: the second and third text encoders' prompts,
    // SD3's T5 length, SDXL's micro-conditioning; guidance_rescale is every family's.
    public static final String PROMPT_2 = "prompt_2";
    public static final String NEGATIVE_PROMPT_2 = "negative_prompt_2";
    public static final String PROMPT_3 = "prompt_3";
    public static final String NEGATIVE_PROMPT_3 = "negative_prompt_3";
    public static final String MAX_SEQUENCE_LENGTH = "max_sequence_length";
    public static final String ORIGINAL_WIDTH = "original_width";
    public static final String ORIGINAL_HEIGHT = "original_height";
    public static final String CROP_TOP = "crop_top";
    public static final String CROP_LEFT = "crop_left";
    public static final String TARGET_WIDTH = "target_width";
    public static final String TARGET_HEIGHT = "target_height";
    public static final String GUIDANCE_RESCALE = "guidance_rescale";

    // LoRA and ControlNet, output only.
    public static final String LORA_SHA256 = "lora_sha256";
    public static final String CONTROLNET_SHA256 = "controlnet_sha256";
    public static final String CONTROL_IMAGE_SHA256 = "control_image_sha256";

    // Output only.
    public static final String IMAGE_ID = "image_id";
    public static final String IMAGE_PATH = "image_path";
    public static final String IMAGE_URI = "image_uri";
    public static final String SOURCE_ROW = "source_row";
    public static final String SOURCE_ID = "source_id";
    public static final String EXPANSION_INDEX = "expansion_index";
    public static final String MODEL = "model";
    public static final String SHA256 = "sha256";
    public static final String BYTES = "bytes";
    public static final String STATUS = "status";
    public static final String ERROR = "error";
    public static final String STARTED_AT = "started_at";
    public static final String ENCODE_MS = "encode_ms";
    public static final String DENOISE_MS = "denoise_ms";
    public static final String DECODE_MS = "decode_ms";
    public static final String WRITE_MS = "write_ms";
    public static final String TOTAL_MS = "total_ms";
    public static final String EXECUTOR = "executor";
    public static final String DEVICE = "device";
    public static final String ATTEMPT = "attempt";
    public static final String SDBATCH_VERSION = "sdbatch_version";

    // Input pictures, output only.
    public static final String INIT_IMAGE_SHA256 = "init_image_sha256";
    public static final String MASK_IMAGE_SHA256 = "mask_image_sha256";
    public static final String WARNING = "warning";

    /** Alternative input names (lower case) → canonical name. */
    public static final Map<String, String> ALIASES = Map.of("num_inference_steps", STEPS);

    /** The recognised input columns, in canonical order. All nullable except {@value #PROMPT}. */
    public static final List<Column> INPUT =
            List.of(
                    new Column(PROMPT, ColumnType.STRING, false, "Text prompt; empty is allowed."),
                    new Column(
                            NEGATIVE_PROMPT,
                            ColumnType.STRING,
                            true,
                            "Negative prompt replacing the empty unconditional prompt; null = none."),
                    new Column(
                            SEED,
                            ColumnType.LONG,
                            true,
                            "Noise seed (>= 0; torch uses its low 32 bits); null = --seeds or derived."),
                    new Column(
                            STEPS,
                            ColumnType.INT,
                            true,
                            "Denoising steps 1..1000 (alias num_inference_steps); null = --steps or default."),
                    new Column(
                            GUIDANCE_SCALE,
                            ColumnType.DOUBLE,
                            true,
                            "Classifier-free guidance scale, finite and >= 0 (<= 1 disables CFG)."),
                    new Column(
                            SCHEDULER,
                            ColumnType.STRING,
                            true,
                            "Scheduler: alias, diffusers class or A1111 sampler name; null = model's."),
                    new Column(
                            SCHEDULER_CONFIG,
                            ColumnType.STRING,
                            true,
                            "JSON object of scheduler config overrides applied on the model's config."),
                    new Column(
                            WIDTH,
                            ColumnType.INT,
                            true,
                            "Image width, a positive multiple of 8; null = model default."),
                    new Column(
                            HEIGHT,
                            ColumnType.INT,
                            true,
                            "Image height, a positive multiple of 8; null = model default."),
                    new Column(
                            ETA,
                            ColumnType.DOUBLE,
                            true,
                            "DDIM eta (>= 0; 0 = deterministic DDIM); ignored by other schedulers."),
                    new Column(
                            CLIP_SKIP,
                            ColumnType.INT,
                            true,
                            "Text-encoder layers to skip (diffusers meaning; 0 = none, A1111 value - 1)."),
                    new Column(
                            INIT_IMAGE,
                            ColumnType.STRING,
                            true,
                            "img2img/inpainting picture: path or URI, relative = against the"
                                    + " table's folder; null = text-to-image."),
                    new Column(
                            MASK_IMAGE,
                            ColumnType.STRING,
                            true,
                            "Inpainting mask (white = repaint): path or URI; needs init_image."),
                    new Column(
                            STRENGTH,
                            ColumnType.DOUBLE,
                            true,
                            "How far the picture is noised, in (0, 1]; null = --strengths or the"
                                    + " pipeline's default."),
                    new Column(
                            PASTE_BACK,
                            ColumnType.BOOLEAN,
                            true,
                            "Inpainting: paste the image back over the original outside the mask;"
                                    + " null = false."),
                    // LoRA and ControlNet (issue 18)
                    new Column(
                            LORAS,
                            ColumnType.STRING,
                            true,
                            "LoRA set: URI[:weight] items separated by ';' (weight default 1);"
                                    + " null = the --lora flags."),
                    new Column(
                            CONTROLNET,
                            ColumnType.STRING,
                            true,
                            "ControlNet folder (path or URI); null = --controlnet or none."),
                    new Column(
                            CONTROL_IMAGE,
                            ColumnType.STRING,
                            true,
                            "ControlNet's control picture: path or URI, relative = against the"
                                    + " table's folder."),
                    new Column(
                            CONTROLNET_CONDITIONING_SCALE,
                            ColumnType.DOUBLE,
                            true,
                            "Factor of the ControlNet's residuals; null = 1."),
                    new Column(
                            CONTROL_GUIDANCE_START,
                            ColumnType.DOUBLE,
                            true,
                            "Fraction of the steps before which the ControlNet is off; null = 0."),
                    new Column(
                            CONTROL_GUIDANCE_END,
                            ColumnType.DOUBLE,
                            true,
                            "Fraction of the steps after which the ControlNet is off; null = 1."),
                    // SDXL and SD3 (issues 16, 19)
                    new Column(
                            PROMPT_2,
                            ColumnType.STRING,
                            true,
                            "SDXL/SD3: the second text encoder's prompt; null or empty = prompt."),
                    new Column(
                            NEGATIVE_PROMPT_2,
                            ColumnType.STRING,
                            true,
                            "SDXL/SD3: the second text encoder's negative prompt; null or empty = negative_prompt."),
                    new Column(
                            PROMPT_3,
                            ColumnType.STRING,
                            true,
                            "SD3: the T5 encoder's prompt; null or empty = prompt."),
                    new Column(
                            NEGATIVE_PROMPT_3,
                            ColumnType.STRING,
                            true,
                            "SD3: the T5 encoder's negative prompt; null or empty = negative_prompt."),
                    new Column(
                            MAX_SEQUENCE_LENGTH,
                            ColumnType.INT,
                            true,
                            "SD3: T5 tokens, 1..512; null = 256."),
                    new Column(
                            ORIGINAL_WIDTH,
                            ColumnType.INT,
                            true,
                            "SDXL micro-conditioning: original width (> 0); null = width."),
                    new Column(
                            ORIGINAL_HEIGHT,
                            ColumnType.INT,
                            true,
                            "SDXL micro-conditioning: original height (> 0); null = height."),
                    new Column(
                            CROP_TOP,
                            ColumnType.INT,
                            true,
                            "SDXL micro-conditioning: crop top (>= 0); null = 0."),
                    new Column(
                            CROP_LEFT,
                            ColumnType.INT,
                            true,
                            "SDXL micro-conditioning: crop left (>= 0); null = 0."),
                    new Column(
                            TARGET_WIDTH,
                            ColumnType.INT,
                            true,
                            "SDXL micro-conditioning: target width (> 0); null = width."),
                    new Column(
                            TARGET_HEIGHT,
                            ColumnType.INT,
                            true,
                            "SDXL micro-conditioning: target height (> 0); null = height."),
                    new Column(
                            GUIDANCE_RESCALE,
                            ColumnType.DOUBLE,
                            true,
                            "guidance_rescale in [0, 1], every family; null = --guidance-rescale or 0."));

    /** The metadata columns, in output order (passthrough columns follow). */
    public static final List<Column> OUTPUT =
            List.of(
                    new Column(
                            IMAGE_ID,
                            ColumnType.STRING,
                            true,
                            "Hash of model identity and every generation parameter; null when invalid."),
                    new Column(
                            IMAGE_PATH,
                            ColumnType.STRING,
                            true,
                            "images/<first two hex>/<image_id>.png, relative to the output root."),
                    new Column(
                            IMAGE_URI,
                            ColumnType.STRING,
                            true,
                            "Absolute URI of the image (file:, hdfs:, s3a:); null unless written."),
                    new Column(
                            SOURCE_ROW,
                            ColumnType.LONG,
                            false,
                            "0-based row number of the input row this request was expanded from."),
                    new Column(
                            SOURCE_ID,
                            ColumnType.STRING,
                            true,
                            "Where the input row came from (file and row), for error messages."),
                    new Column(
                            EXPANSION_INDEX,
                            ColumnType.INT,
                            true,
                            "Index of this request among its row's sweep expansion; null when invalid."),
                    new Column(
                            PROMPT,
                            ColumnType.STRING,
                            true,
                            "Prompt used (input value if invalid)."),
                    new Column(
                            NEGATIVE_PROMPT,
                            ColumnType.STRING,
                            true,
                            "Negative prompt used; \"\" = none (SDXL: null = none, zero embeddings; \"\" = the"
                                    + " empty text encoded)."),
                    new Column(SEED, ColumnType.LONG, true, "Seed used."),
                    new Column(STEPS, ColumnType.INT, true, "Denoising steps used."),
                    new Column(GUIDANCE_SCALE, ColumnType.DOUBLE, true, "Guidance scale used."),
                    new Column(
                            SCHEDULER, ColumnType.STRING, true, "Canonical scheduler alias used."),
                    new Column(
                            SCHEDULER_CONFIG,
                            ColumnType.STRING,
                            true,
                            "Canonical JSON of the scheduler overrides used ({} = none)."),
                    new Column(WIDTH, ColumnType.INT, true, "Image width used."),
                    new Column(HEIGHT, ColumnType.INT, true, "Image height used."),
                    new Column(ETA, ColumnType.DOUBLE, true, "Eta used."),
                    new Column(
                            CLIP_SKIP, ColumnType.INT, true, "Clip skip used (diffusers meaning)."),
                    // LoRA and ControlNet (issue 18)
                    new Column(
                            LORAS,
                            ColumnType.STRING,
                            true,
                            "LoRA set used: absolute URI:weight items separated by ';'."),
                    new Column(
                            LORA_SHA256,
                            ColumnType.STRING,
                            true,
                            "SHA-256 hex of each LoRA file, ';'-separated as in loras."),
                    new Column(CONTROLNET, ColumnType.STRING, true, "ControlNet used (URI)."),
                    new Column(
                            CONTROLNET_SHA256,
                            ColumnType.STRING,
                            true,
                            "Content hash of the ControlNet folder (in the image id)."),
                    new Column(
                            CONTROL_IMAGE,
                            ColumnType.STRING,
                            true,
                            "Control picture used (absolute URI)."),
                    new Column(
                            CONTROL_IMAGE_SHA256,
                            ColumnType.STRING,
                            true,
                            "SHA-256 hex of the control picture's file bytes."),
                    new Column(
                            CONTROLNET_CONDITIONING_SCALE,
                            ColumnType.DOUBLE,
                            true,
                            "ControlNet conditioning scale used."),
                    new Column(
                            CONTROL_GUIDANCE_START,
                            ColumnType.DOUBLE,
                            true,
                            "ControlNet guidance start used."),
                    new Column(
                            CONTROL_GUIDANCE_END,
                            ColumnType.DOUBLE,
                            true,
                            "ControlNet guidance end used."),
                    // SDXL and SD3 (issues 16, 19): null where the row left them to the default
                    // or the model's family does not use them
                    new Column(
                            PROMPT_2,
                            ColumnType.STRING,
                            true,
                            "Second text encoder's prompt used; null = prompt's."),
                    new Column(
                            NEGATIVE_PROMPT_2,
                            ColumnType.STRING,
                            true,
                            "Second text encoder's negative prompt used; null = negative_prompt's."),
                    new Column(
                            PROMPT_3,
                            ColumnType.STRING,
                            true,
                            "T5 prompt used (SD3); null = prompt's."),
                    new Column(
                            NEGATIVE_PROMPT_3,
                            ColumnType.STRING,
                            true,
                            "T5 negative prompt used (SD3); null = negative_prompt's."),
                    new Column(
                            MAX_SEQUENCE_LENGTH,
                            ColumnType.INT,
                            true,
                            "T5 tokens used (SD3); null = 256."),
                    new Column(
                            ORIGINAL_WIDTH,
                            ColumnType.INT,
                            true,
                            "SDXL original width used; null = width."),
                    new Column(
                            ORIGINAL_HEIGHT,
                            ColumnType.INT,
                            true,
                            "SDXL original height used; null = height."),
                    new Column(CROP_TOP, ColumnType.INT, true, "SDXL crop top used; null = 0."),
                    new Column(CROP_LEFT, ColumnType.INT, true, "SDXL crop left used; null = 0."),
                    new Column(
                            TARGET_WIDTH,
                            ColumnType.INT,
                            true,
                            "SDXL target width used; null = width."),
                    new Column(
                            TARGET_HEIGHT,
                            ColumnType.INT,
                            true,
                            "SDXL target height used; null = height."),
                    new Column(
                            GUIDANCE_RESCALE,
                            ColumnType.DOUBLE,
                            true,
                            "Guidance rescale used; null or 0 = off."),
                    new Column(
                            INIT_IMAGE,
                            ColumnType.STRING,
                            true,
                            "Init picture used (absolute URI; as written when invalid)."),
                    new Column(
                            INIT_IMAGE_SHA256,
                            ColumnType.STRING,
                            true,
                            "SHA-256 hex of the init picture's file bytes (in the image id)."),
                    new Column(
                            MASK_IMAGE,
                            ColumnType.STRING,
                            true,
                            "Mask picture used (absolute URI; as written when invalid)."),
                    new Column(
                            MASK_IMAGE_SHA256,
                            ColumnType.STRING,
                            true,
                            "SHA-256 hex of the mask picture's file bytes (in the image id)."),
                    new Column(
                            STRENGTH,
                            ColumnType.DOUBLE,
                            true,
                            "Strength used; null for text-to-image."),
                    new Column(
                            PASTE_BACK,
                            ColumnType.BOOLEAN,
                            true,
                            "Whether the image was pasted back over the original."),
                    new Column(
                            MODEL,
                            ColumnType.STRING,
                            true,
                            "Model identity (name and weights hash)."),
                    new Column(
                            SHA256, ColumnType.STRING, true, "SHA-256 hex of the PNG file bytes."),
                    new Column(BYTES, ColumnType.LONG, true, "Size of the PNG file in bytes."),
                    new Column(STATUS, ColumnType.STRING, false, "ok, invalid or failed."),
                    new Column(
                            ERROR,
                            ColumnType.STRING,
                            true,
                            "Why the row is invalid or failed (column, value, rule or cause)."),
                    new Column(
                            WARNING,
                            ColumnType.STRING,
                            true,
                            "What looks wrong but was generated anyway (an all-black mask; a prompt the"
                                    + " tokenizer cut, as diffusers warns)."),
                    new Column(
                            STARTED_AT,
                            ColumnType.TIMESTAMP,
                            true,
                            "When generation of this image started."),
                    new Column(ENCODE_MS, ColumnType.LONG, true, "Prompt encoding time, ms."),
                    new Column(DENOISE_MS, ColumnType.LONG, true, "Denoising loop time, ms."),
                    new Column(DECODE_MS, ColumnType.LONG, true, "VAE decode time, ms."),
                    new Column(WRITE_MS, ColumnType.LONG, true, "PNG encode and write time, ms."),
                    new Column(TOTAL_MS, ColumnType.LONG, true, "Wall time for this image, ms."),
                    new Column(EXECUTOR, ColumnType.STRING, true, "Spark executor id."),
                    new Column(
                            DEVICE, ColumnType.STRING, true, "Device used (cpu, gpu:<address>)."),
                    new Column(ATTEMPT, ColumnType.INT, true, "Spark task attempt number."),
                    new Column(
                            SDBATCH_VERSION,
                            ColumnType.STRING,
                            true,
                            "sdbatch version that wrote the row."));

    private static final Map<String, Column> INPUT_BY_NAME = byName(INPUT);
    private static final Map<String, Column> OUTPUT_BY_NAME = byName(OUTPUT);

    private static Map<String, Column> byName(List<Column> columns) {
        return columns.stream()
                .collect(
                        Collectors.toMap(
                                Column::name,
                                Function.identity(),
                                (a, b) -> a,
                                LinkedHashMap::new));
    }

    /**
     * The canonical input column a table column name denotes (case-insensitive, aliases resolved),
     * or empty for a passthrough column.
     */
    public static Optional<Column> input(String tableColumnName) {
        String lower = tableColumnName.toLowerCase(Locale.ROOT);
        String canonical = ALIASES.getOrDefault(lower, lower);
        return Optional.ofNullable(INPUT_BY_NAME.get(canonical));
    }

    /** The output column called {@code name}, or empty. */
    public static Optional<Column> output(String name) {
        return Optional.ofNullable(OUTPUT_BY_NAME.get(name));
    }

    /**
     * The metadata name of a passthrough column: its own name, or {@code input_<name>} when an
     * output column already has that name (case-insensitively), repeated until free, so a user's
     * {@code status} column never overwrites ours.
     */
    public static String passthroughOutputName(String name) {
        String out = name;
        while (OUTPUT_BY_NAME.containsKey(out.toLowerCase(Locale.ROOT))) {
            out = "input_" + out;
        }
        return out;
    }
}
