package sdbatch.pipeline.tiny;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.CLIPTextModelWithProjection;
import sdbatch.pipeline.models.UNet2DConditionModel;

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

    static Path write(Path dir, long seed) throws IOException {
        return write(dir, seed, false);
    }

    /**
     * Writes the folder; {@code fullSize}: SDXL 1.0 base's real shapes ({@link
     * TinyModels.Variant#SDXL_SHAPED}: CLIP ViT-L and OpenCLIP bigG with CLIP's 49408-row tables,
     * the 2.6 B-parameter UNet, the 4-level VAE), several GB, for memory and load benchmarks.
     */
    static Path write(Path dir, long seed, boolean fullSize) throws IOException {
        Files.createDirectories(dir);
        SyntheticBpeVocabulary vocab = SyntheticBpeVocabulary.train(TinyModels.MERGES);
        vocab.write(dir.resolve("tokenizer"), SyntheticBpeVocabulary.EOS);
        vocab.write(dir.resolve("tokenizer_2"), "!");
        TinyModels.writeJson(dir.resolve("model_index.json"), modelIndex());
        TinyModels.writeJson(dir.resolve("scheduler/scheduler_config.json"), schedulerConfig());
        JsonObject text;
        JsonObject text2;
        JsonObject unet;
        JsonObject vae;
        if (fullSize) {
            // CLIP ViT-L/14 and OpenCLIP ViT-bigG/14, as SDXL base's text_encoder(_2) configs.
            text =
                    textEncoder(
                            vocab, "CLIPTextModel", "quick_gelu", 768, vocab.eosId(), 3072, 12, 12);
            text2 =
                    textEncoder(
                            vocab,
                            "CLIPTextModelWithProjection",
                            "gelu",
                            1280,
                            vocab.id("!"),
                            5120,
                            20,
                            32);
            text.addProperty("vocab_size", TinyModels.CLIP_VOCAB_SIZE);
            text2.addProperty("vocab_size", TinyModels.CLIP_VOCAB_SIZE);
            unet = sdxlShapedUnetConfig();
            vae = TinyModels.vaeConfig(TinyModels.Variant.SD15_SHAPED);
            vae.addProperty("sample_size", 1024);
        } else {
            text = textEncoder(vocab, "CLIPTextModel", "quick_gelu", 32, vocab.eosId(), 64, 4, 3);
            text2 =
                    textEncoder(
                            vocab,
                            "CLIPTextModelWithProjection",
                            "gelu",
                            48,
                            vocab.id("!"),
                            96,
                            4,
                            3);
            text2.addProperty("projection_dim", 40);
            unet = unetConfig();
            vae = TinyModels.vaeConfig(TinyModels.Variant.SD1);
        }
        vae.addProperty("scaling_factor", 0.13025);
        TinyModels.writeJson(dir.resolve("text_encoder/config.json"), text);
        TinyModels.writeJson(dir.resolve("text_encoder_2/config.json"), text2);
        TinyModels.writeJson(dir.resolve("unet/config.json"), unet);
        TinyModels.writeJson(dir.resolve("vae/config.json"), vae);

        // The full-size models are built in float16 while their shapes are collected (half the
        // memory); the files hold the float32 values all the same.
        DataType building = fullSize ? DataType.FLOAT16 : DataType.FLOAT32;
        TinyModels.writeRandom(
                dir.resolve("text_encoder/model.safetensors"),
                seed * 5 + 1,
                building,
                w -> new CLIPTextModel(parse(text), w));
        TinyModels.writeRandom(
                dir.resolve("text_encoder_2/model.safetensors"),
                seed * 5 + 2,
                building,
                w -> new CLIPTextModelWithProjection(parse(text2), w));
        TinyModels.writeRandom(
                dir.resolve("unet/diffusion_pytorch_model.safetensors"),
                seed * 5 + 3,
                building,
                w ->
                        new UNet2DConditionModel(
                                UNetConfig.parse("tiny sdxl unet", TinyModels.GSON.toJson(unet)),
                                w));
        TinyModels.writeRandom(
                dir.resolve("vae/diffusion_pytorch_model.safetensors"),
                seed * 5 + 4,
                building,
                w ->
                        new AutoencoderKL(
                                VaeConfig.parse("tiny sdxl vae", TinyModels.GSON.toJson(vae)), w));
        return dir;
    }

    private static CLIPTextConfig parse(JsonObject config) {
        return CLIPTextConfig.parse(TinyModels.GSON.toJson(config), "tiny sdxl text encoder");
    }

    static JsonObject modelIndex() {
        JsonObject c = TinyModels.diffusersConfig("StableDiffusionXLPipeline");
        c.add("feature_extractor", TinyModels.pair(null, null));
        c.add("force_zeros_for_empty_prompt", new JsonPrimitive(true));
        c.add("image_encoder", TinyModels.pair(null, null));
        c.add("scheduler", TinyModels.pair("diffusers", "EulerDiscreteScheduler"));
        c.add("text_encoder", TinyModels.pair("transformers", "CLIPTextModel"));
        c.add("text_encoder_2", TinyModels.pair("transformers", "CLIPTextModelWithProjection"));
        c.add("tokenizer", TinyModels.pair("transformers", "CLIPTokenizer"));
        c.add("tokenizer_2", TinyModels.pair("transformers", "CLIPTokenizer"));
        c.add("unet", TinyModels.pair("diffusers", "UNet2DConditionModel"));
        c.add("vae", TinyModels.pair("diffusers", "AutoencoderKL"));
        return c;
    }

    /** SDXL base's scheduler: Euler, scaled_linear 0.00085..0.012, leading spacing, offset 1. */
    static JsonObject schedulerConfig() {
        JsonObject c = TinyModels.diffusersConfig("EulerDiscreteScheduler");
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

    private static JsonObject textEncoder(
            SyntheticBpeVocabulary vocab,
            String architecture,
            String act,
            int width,
            int padId,
            int intermediate,
            int heads,
            int layers) {
        JsonObject c = new JsonObject();
        c.add("architectures", TinyModels.strings(architecture));
        c.addProperty("attention_dropout", 0.0);
        c.addProperty("bos_token_id", vocab.bosId());
        c.addProperty("eos_token_id", vocab.eosId());
        c.addProperty("pad_token_id", padId);
        c.addProperty("hidden_act", act);
        c.addProperty("hidden_size", width);
        c.addProperty("intermediate_size", intermediate);
        c.addProperty("layer_norm_eps", 1e-5);
        c.addProperty("max_position_embeddings", 77);
        c.addProperty("model_type", "clip_text_model");
        c.addProperty("num_attention_heads", heads);
        c.addProperty("num_hidden_layers", layers);
        c.addProperty("projection_dim", width);
        c.addProperty("vocab_size", vocab.size());
        c.addProperty("torch_dtype", "float32");
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
        c.add("block_out_channels", TinyModels.ints(320, 640, 1280));
        c.add(
                "down_block_types",
                TinyModels.strings("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"));
        c.add(
                "up_block_types",
                TinyModels.strings("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"));
        c.add("transformer_layers_per_block", TinyModels.ints(1, 2, 10));
        c.add("attention_head_dim", TinyModels.ints(5, 10, 20));
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
        c.add("block_out_channels", TinyModels.ints(32, 64));
        c.add("down_block_types", TinyModels.strings("DownBlock2D", "CrossAttnDownBlock2D"));
        c.add("up_block_types", TinyModels.strings("CrossAttnUpBlock2D", "UpBlock2D"));
        c.add("transformer_layers_per_block", TinyModels.ints(1, 2));
        c.add("attention_head_dim", TinyModels.ints(2, 4));
        c.addProperty("cross_attention_dim", 80);
        c.addProperty("use_linear_projection", true);
        c.addProperty("addition_embed_type", "text_time");
        c.addProperty("addition_time_embed_dim", 8);
        c.addProperty("projection_class_embeddings_input_dim", 88);
        return c;
    }
}
