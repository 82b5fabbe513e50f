package sdbatch.schemas;

import static sdbatch.schemas.Columns.ATTEMPT;
import static sdbatch.schemas.Columns.BYTES;
import static sdbatch.schemas.Columns.CLIP_SKIP;
import static sdbatch.schemas.Columns.CONTROLNET;
import static sdbatch.schemas.Columns.CONTROLNET_CONDITIONING_SCALE;
import static sdbatch.schemas.Columns.CONTROLNET_SHA256;
import static sdbatch.schemas.Columns.CONTROL_GUIDANCE_END;
import static sdbatch.schemas.Columns.CONTROL_GUIDANCE_START;
import static sdbatch.schemas.Columns.CONTROL_IMAGE;
import static sdbatch.schemas.Columns.CONTROL_IMAGE_SHA256;
import static sdbatch.schemas.Columns.CROP_LEFT;
import static sdbatch.schemas.Columns.CROP_TOP;
import static sdbatch.schemas.Columns.DECODE_MS;
import static sdbatch.schemas.Columns.DENOISE_MS;
import static sdbatch.schemas.Columns.DEVICE;
import static sdbatch.schemas.Columns.ENCODE_MS;
import static sdbatch.schemas.Columns.ERROR;
import static sdbatch.schemas.Columns.ETA;
import static sdbatch.schemas.Columns.EXECUTOR;
import static sdbatch.schemas.Columns.EXPANSION_INDEX;
import static sdbatch.schemas.Columns.GUIDANCE_RESCALE;
import static sdbatch.schemas.Columns.GUIDANCE_SCALE;
import static sdbatch.schemas.Columns.HEIGHT;
import static sdbatch.schemas.Columns.IMAGE_ID;
import static sdbatch.schemas.Columns.IMAGE_PATH;
import static sdbatch.schemas.Columns.IMAGE_URI;
import static sdbatch.schemas.Columns.INIT_IMAGE;
import static sdbatch.schemas.Columns.INIT_IMAGE_SHA256;
import static sdbatch.schemas.Columns.LORAS;
import static sdbatch.schemas.Columns.LORA_SHA256;
import static sdbatch.schemas.Columns.MASK_IMAGE;
import static sdbatch.schemas.Columns.MASK_IMAGE_SHA256;
import static sdbatch.schemas.Columns.MAX_SEQUENCE_LENGTH;
import static sdbatch.schemas.Columns.MODEL;
import static sdbatch.schemas.Columns.NEGATIVE_PROMPT;
import static sdbatch.schemas.Columns.NEGATIVE_PROMPT_2;
import static sdbatch.schemas.Columns.NEGATIVE_PROMPT_3;
import static sdbatch.schemas.Columns.ORIGINAL_HEIGHT;
import static sdbatch.schemas.Columns.ORIGINAL_WIDTH;
import static sdbatch.schemas.Columns.PASTE_BACK;
import static sdbatch.schemas.Columns.PROMPT;
import static sdbatch.schemas.Columns.PROMPT_2;
import static sdbatch.schemas.Columns.PROMPT_3;
import static sdbatch.schemas.Columns.SCHEDULER;
import static sdbatch.schemas.Columns.SCHEDULER_CONFIG;
import static sdbatch.schemas.Columns.SDBATCH_VERSION;
import static sdbatch.schemas.Columns.SEED;
import static sdbatch.schemas.Columns.SHA256;
import static sdbatch.schemas.Columns.SOURCE_ID;
import static sdbatch.schemas.Columns.SOURCE_ROW;
import static sdbatch.schemas.Columns.STARTED_AT;
import static sdbatch.schemas.Columns.STATUS;
import static sdbatch.schemas.Columns.STEPS;
import static sdbatch.schemas.Columns.STRENGTH;
import static sdbatch.schemas.Columns.TARGET_HEIGHT;
import static sdbatch.schemas.Columns.TARGET_WIDTH;
import static sdbatch.schemas.Columns.TOTAL_MS;
import static sdbatch.schemas.Columns.WARNING;
import static sdbatch.schemas.Columns.WIDTH;
import static sdbatch.schemas.Columns.WRITE_MS;

import java.util.List;

/**
 * The definitions of the metadata columns ({@link Columns#OUTPUT}): name, type, nullability and the
 * doc the README table repeats, in output order; apart from {@link Columns} like {@link
 * InputColumns}.
 */
final class OutputColumns {
    private OutputColumns() {}

    /** The metadata columns, in output order (passthrough columns follow). */
    static final List<Column> ALL =
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
}
