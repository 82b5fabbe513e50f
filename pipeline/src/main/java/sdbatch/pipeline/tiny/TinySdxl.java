package sdbatch.pipeline.tiny;

import static sdbatch.pipeline.tiny.TinyComponents.CLIP_TEXT_MODEL;
import static sdbatch.pipeline.tiny.TinyComponents.CLIP_WITH_PROJECTION;
import static sdbatch.pipeline.tiny.TinyComponents.UNET;
import static sdbatch.pipeline.tiny.TinyComponents.VAE;
import static sdbatch.pipeline.tiny.TinyComponents.diffusersConfig;
import static sdbatch.pipeline.tiny.TinyComponents.ints;
import static sdbatch.pipeline.tiny.TinyComponents.pair;
import static sdbatch.pipeline.tiny.TinyComponents.strings;
import static sdbatch.pipeline.tiny.TinyComponents.writeComponent;
import static sdbatch.pipeline.tiny.TinyComponents.writeJson;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Path;
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
        JsonObject c = diffusersConfig("StableDiffusionXLPipeline");
        c.add("feature_extractor", pair(null, null));
        c.add("force_zeros_for_empty_prompt", new JsonPrimitive(true));
        c.add("image_encoder", pair(null, null));
        c.add("scheduler", pair("diffusers", "EulerDiscreteScheduler"));
        c.add("text_encoder", pair("transformers", "CLIPTextModel"));
        c.add("text_encoder_2", pair("transformers", "CLIPTextModelWithProjection"));
        c.add("tokenizer", pair("transformers", "CLIPTokenizer"));
        c.add("tokenizer_2", pair("transformers", "CLIPTokenizer"));
        c.add("unet", pair("diffusers", "UNet2DConditionModel"));
        c.add("vae", pair("diffusers", "AutoencoderKL"));
        return c;
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
     * The UNet of SDXL 1.0 base ({@code
     * stabilityai/stable-diffusion-xl-base-1.0/unet/config.json}): three levels (320, 640, 1280),
     * the first without attention, 1, 2 and 10 transformer layers, 2048-wide text states, {@code
     * text_time} over 256 per time id and a 1280-wide pooled embedding (2816 = 1280 + 6 × 256).
     * About 2.6 B parameters: for benchmarks, built in memory.
     */
    static JsonObject sdxlShapedUnetConfig() {
        JsonObject c = TinyModels.unetConfig(TinyModels.Variant.SD1);
        c.add("block_out_channels", ints(320, 640, 1280));
        c.add(
                "down_block_types",
                strings("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"));
        c.add("up_block_types", strings("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"));
        c.add("transformer_layers_per_block", ints(1, 2, 10));
        c.add("attention_head_dim", ints(5, 10, 20));
        c.addProperty("layers_per_block", 2);
        c.addProperty("norm_num_groups", 32);
        c.addProperty("sample_size", 128);
        c.addProperty("cross_attention_dim", 2048);
        c.addProperty("use_linear_projection", true);
        c.addProperty("upcast_attention", false);
        c.addProperty("addition_embed_type", "text_time");
        c.addProperty("addition_time_embed_dim", 256);
        c.addProperty("projection_class_embeddings_input_dim", 2816);
        return c;
    }

    static JsonObject unetConfig() {
        JsonObject c = TinyModels.unetConfig(TinyModels.Variant.SD1);
        c.add("block_out_channels", ints(32, 64));
        c.add("down_block_types", strings("DownBlock2D", "CrossAttnDownBlock2D"));
        c.add("up_block_types", strings("CrossAttnUpBlock2D", "UpBlock2D"));
        c.add("transformer_layers_per_block", ints(1, 2));
        c.add("attention_head_dim", ints(2, 4));
        c.addProperty("cross_attention_dim", 80);
        c.addProperty("use_linear_projection", true);
        c.addProperty("addition_embed_type", "text_time");
        c.addProperty("addition_time_embed_dim", 8);
        c.addProperty("projection_class_embeddings_input_dim", 88);
        return c;
    }
}
