package sdbatch.schemas;

import static sdbatch.schemas.Columns.CLIP_SKIP;
import static sdbatch.schemas.Columns.CONTROLNET;
import static sdbatch.schemas.Columns.CONTROLNET_CONDITIONING_SCALE;
import static sdbatch.schemas.Columns.CONTROL_GUIDANCE_END;
import static sdbatch.schemas.Columns.CONTROL_GUIDANCE_START;
import static sdbatch.schemas.Columns.CONTROL_IMAGE;
import static sdbatch.schemas.Columns.CROP_LEFT;
import static sdbatch.schemas.Columns.CROP_TOP;
import static sdbatch.schemas.Columns.ETA;
import static sdbatch.schemas.Columns.GUIDANCE_RESCALE;
import static sdbatch.schemas.Columns.GUIDANCE_SCALE;
import static sdbatch.schemas.Columns.HEIGHT;
import static sdbatch.schemas.Columns.INIT_IMAGE;
import static sdbatch.schemas.Columns.LORAS;
import static sdbatch.schemas.Columns.MASK_IMAGE;
import static sdbatch.schemas.Columns.MAX_SEQUENCE_LENGTH;
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
import static sdbatch.schemas.Columns.SEED;
import static sdbatch.schemas.Columns.STEPS;
import static sdbatch.schemas.Columns.STRENGTH;
import static sdbatch.schemas.Columns.TARGET_HEIGHT;
import static sdbatch.schemas.Columns.TARGET_WIDTH;
import static sdbatch.schemas.Columns.WIDTH;

import java.util.List;

/**
 * The definitions of the input columns ({@link Columns#INPUT}): name, type, nullability and the doc
 * the README table repeats, in canonical order; apart from {@link Columns} so the names and lookups
 * read without two long tables in between.
 */
final class InputColumns {
    private InputColumns() {}

    /**
     * The recognised input columns, in canonical order. All nullable except {@value
     * Columns#PROMPT}.
     */
    static final List<Column> ALL =
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
}
