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
 *
 * <p>This class holds the names and the lookups; each column's type, nullability and doc are in
 * {@code InputColumns} and {@code OutputColumns}.
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
    public static final List<Column> INPUT = InputColumns.ALL;

    /** The metadata columns, in output order (passthrough columns follow). */
    public static final List<Column> OUTPUT = OutputColumns.ALL;

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
