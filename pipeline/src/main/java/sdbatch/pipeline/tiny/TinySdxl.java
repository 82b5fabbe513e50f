package sdbatch.pipeline.tiny;

import static sdbatch.pipeline.tiny.TinyComponents.CLIP_TEXT_MODEL;
import static sdbatch.pipeline.tiny.TinyComponents.CLIP_WITH_PROJECTION;
import static sdbatch.pipeline.tiny.TinyComponents.UNET;
import static sdbatch.pipeline.tiny.TinyComponents.VAE;
import static sdbatch.pipeline.tiny.TinyComponents.diffusersConfig;
import static sdbatch.pipeline.tiny.TinyComponents.ints;
import static sdbatch.pipeline.tiny.TinyComponents.pair;
import static sdbatch.pipeline.tiny.TinyComponents.pipelineIndex;
import static sdbatch.pipeline.tiny.TinyComponents.repeat;
import static sdbatch.pipeline.tiny.TinyComponents.strings;
import static sdbatch.pipeline.tiny.TinyComponents.twoClipPipelineEntries;
import static sdbatch.pipeline.tiny.TinyComponents.writeComponent;
import static sdbatch.pipeline.tiny.TinyComponents.writeJson;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SortedMap;
import sdbatch.pipeline.tiny.TinyComponents.TwoClips;

/**
 * {@link TinyModels.Variant#SDXL}: a random-weight {@code StableDiffusionXLPipeline} folder as
 * diffusers saves one ({@code tokenizer}, {@code tokenizer_2}, {@code text_encoder}, {@code
 * text_encoder_2}, {@code unet}, {@code vae}, {@code scheduler}), in SDXL's proportions at toy
 * size: a 32-wide {@code quick_gelu} CLIPTextModel and a 48-wide {@code gelu}
 * CLIPTextModelWithProjection (projection 40, pad {@code !}), a UNet whose first level has no
 * attention, {@code transformer_layers_per_block} (1, 2), cross-attention 80 = 32 + 48 and {@code
 * text_time} added conditioning (8 per time id: 88 = 40 + 6 × 8), the SDXL VAE's {@code
 * scaling_factor} 0.13025, EulerDiscreteScheduler on SDXL's config, {@code
 * force_zeros_for_empty_prompt}.
 */
final class TinySdxl {
    private TinySdxl() {}

    /**
     * Writes the folder; {@code fullSize}: SDXL 1.0 base's real shapes ({@link
     * TinyModels.Variant#SDXL_SHAPED}: CLIP ViT-L and OpenCLIP bigG with CLIP's 49408-row tables,
     * the 2.6 B-parameter UNet, the 4-level VAE), several GB, for memory and load benchmarks.
     */
    static Path write(Path dir, long seed, boolean fullSize) throws IOException {
        TwoClips clips = TinyComponents.twoClips(dir, "CLIPTextModel", fullSize);
        writeJson(dir.resolve("model_index.json"), modelIndex());
        writeJson(dir.resolve("scheduler/scheduler_config.json"), schedulerConfig());
        JsonObject unet;
        JsonObject vae;
        if (fullSize) {
            unet = sdxlShapedUnetConfig();
            vae = TinyModels.vaeConfig(TinyModels.Variant.SD15_SHAPED);
            vae.addProperty("sample_size", 1024);
        } else {
            clips.text2().addProperty("projection_dim", 40);
            unet = unetConfig();
            vae = TinyModels.vaeConfig(TinyModels.Variant.SD1);
        }
        vae.addProperty("scaling_factor", 0.13025);

        // The full-size models are built in float16 while their shapes are collected (half the
        // memory); the files hold the float32 values all the same.
        DataType building = fullSize ? DataType.FLOAT16 : DataType.FLOAT32;
        writeComponent(dir, "text_encoder", clips.text(), seed * 5 + 1, building, CLIP_TEXT_MODEL);
        writeComponent(
                dir, "text_encoder_2", clips.text2(), seed * 5 + 2, building, CLIP_WITH_PROJECTION);
        writeComponent(dir, "unet", unet, seed * 5 + 3, building, UNET);
        writeComponent(dir, "vae", vae, seed * 5 + 4, building, VAE);
        return dir;
    }

    static JsonObject modelIndex() {
        SortedMap<String, JsonElement> c = twoClipPipelineEntries("CLIPTextModel");
        c.put("force_zeros_for_empty_prompt", new JsonPrimitive(true));
        c.put("scheduler", pair("diffusers", "EulerDiscreteScheduler"));
        c.put("unet", pair("diffusers", "UNet2DConditionModel"));
        return pipelineIndex("StableDiffusionXLPipeline", c);
    }

    /** SDXL base's scheduler: Euler, scaled_linear 0.00085..0.012, leading spacing, offset 1. */
    static JsonObject schedulerConfig() {
        JsonObject c = diffusersConfig("EulerDiscreteScheduler");
        c.addProperty("beta_start", 0.00085);
        c.addProperty("beta_end", 0.012);
        c.addProperty("beta_schedule", "scaled_linear");
        c.addProperty("interpolation_type", "linear");
        c.addProperty("num_train_timesteps", 1000);
        c.addProperty("prediction_type", "epsilon");
        c.addProperty("steps_offset", 1);
        c.addProperty("timestep_spacing", "leading");
        c.addProperty("use_karras_sigmas", false);
        return c;
    }

    /**
     * The keys that size SDXL's UNet beyond the SD 1.x-like one it starts from: the width of each
     * level (the first without attention), transformer layers and heads per level, the width of the
     * text states (both encoders' side by side), the pooled text embedding's width and the
     * sinusoidal width of each of the six {@code text_time} ids.
     */
    private record UNetSize(
            int[] blockOutChannels,
            int[] transformerLayersPerBlock,
            int[] attentionHeadDim,
            int crossAttentionDim,
            int pooledTextWidth,
            int additionTimeEmbedDim) {}

    /**
     * The tiny UNet: two levels (32, 64), 1 and 2 transformer layers of 2 and 4 heads,
     * cross-attention 80 = 32 + 48, {@code text_time} over 8 per time id and the 40-wide pooled
     * projection (88 = 40 + 6 × 8).
     */
    private static final UNetSize TINY_UNET =
            new UNetSize(new int[] {32, 64}, new int[] {1, 2}, new int[] {2, 4}, 80, 40, 8);

    /**
     * The UNet of SDXL 1.0 base ({@code
     * stabilityai/stable-diffusion-xl-base-1.0/unet/config.json}): three levels (320, 640, 1280),
     * the first without attention, 1, 2 and 10 transformer layers, 2048-wide text states, {@code
     * text_time} over 256 per time id and a 1280-wide pooled embedding (2816 = 1280 + 6 × 256).
     */
    private static final UNetSize SDXL_BASE_UNET =
            new UNetSize(
                    new int[] {320, 640, 1280},
                    new int[] {1, 2, 10},
                    new int[] {5, 10, 20},
                    2048,
                    1280,
                    256);

    /**
     * {@link #SDXL_BASE_UNET} on SD 1.5's UNet, which already has SDXL's resnets per block,
     * GroupNorm groups and no upcast, trained at 128. About 2.6 B parameters: for benchmarks, built
     * in memory.
     */
    static JsonObject sdxlShapedUnetConfig() {
        JsonObject c =
                sdxlUnet(TinyModels.unetConfig(TinyModels.Variant.SD15_SHAPED), SDXL_BASE_UNET);
        c.addProperty("sample_size", 128);
        return c;
    }

    /** {@link #TINY_UNET} on the tiny SD 1.x UNet. */
    static JsonObject unetConfig() {
        return sdxlUnet(TinyModels.unetConfig(TinyModels.Variant.SD1), TINY_UNET);
    }

    /**
     * Makes the SD 1.x-like UNet config {@code c} SDXL's: {@code size}'s levels, the first a {@code
     * DownBlock2D} / last an {@code UpBlock2D} and the others with cross-attention, linear
     * projections, and {@code text_time} added conditioning, whose input is the pooled text
     * embedding and the six embedded time ids. Keys {@code c} has keep their place.
     */
    private static JsonObject sdxlUnet(JsonObject c, UNetSize size) {
        int levels = size.blockOutChannels().length;
        JsonArray down = strings("DownBlock2D");
        down.addAll(repeat("CrossAttnDownBlock2D", levels - 1));
        JsonArray up = repeat("CrossAttnUpBlock2D", levels - 1);
        up.add("UpBlock2D");
        c.add("block_out_channels", ints(size.blockOutChannels()));
        c.add("down_block_types", down);
        c.add("up_block_types", up);
        c.add("transformer_layers_per_block", ints(size.transformerLayersPerBlock()));
        c.add("attention_head_dim", ints(size.attentionHeadDim()));
        c.addProperty("cross_attention_dim", size.crossAttentionDim());
        c.addProperty("use_linear_projection", true);
        c.addProperty("addition_embed_type", "text_time");
        c.addProperty("addition_time_embed_dim", size.additionTimeEmbedDim());
        c.addProperty(
                "projection_class_embeddings_input_dim",
                size.pooledTextWidth() + 6 * size.additionTimeEmbedDim());
        return c;
    }
}
