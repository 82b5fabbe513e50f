package sdbatch.pipeline.tiny;

import static sdbatch.pipeline.tiny.TinyComponents.CLIP_WITH_PROJECTION;
import static sdbatch.pipeline.tiny.TinyComponents.SD3_TRANSFORMER;
import static sdbatch.pipeline.tiny.TinyComponents.T5_ENCODER;
import static sdbatch.pipeline.tiny.TinyComponents.VAE;
import static sdbatch.pipeline.tiny.TinyComponents.diffusersConfig;
import static sdbatch.pipeline.tiny.TinyComponents.pair;
import static sdbatch.pipeline.tiny.TinyComponents.strings;
import static sdbatch.pipeline.tiny.TinyComponents.writeComponent;
import static sdbatch.pipeline.tiny.TinyComponents.writeJson;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.pipeline.tiny.TinyComponents.TwoClips;

/**
 * Writes a random-weight Stable Diffusion 3 folder ({@link TinyModels.Variant#SD3}) in the layout
 * diffusers' {@code StableDiffusion3Pipeline.save_pretrained} writes: the SD3-medium structure in
 * miniature — two CLIPTextModelWithProjection (32 and 48 wide, their tokenizers with pad {@code
 * <|endoftext|>} and {@code !}), a T5 encoder (gated-gelu, 96 wide) with a small Unigram {@code
 * tokenizer.json} (the T5 layout: {@code <pad>} 0, {@code </s>} 1, {@code <unk>} 2, Metaspace,
 * {@code </s>} appended), an MMDiT (patch 2, 3 joint blocks, 4 heads × 8), a 16-channel VAE with
 * {@code shift_factor} and no quant convs, and {@code FlowMatchEulerDiscreteScheduler} with shift
 * 3. Deterministic: the same seed gives byte-identical files.
 */
final class TinySd3 {
    private TinySd3() {}

    /**
     * Writes the folder; {@code fullSize}: SD3 medium's real shapes ({@link
     * TinyModels.Variant#SD3_MEDIUM_SHAPED}: CLIP ViT-L and OpenCLIP bigG with projections, T5 v1.1
     * XXL's encoder (4.7 B parameters), the 2.0 B-parameter transformer, the 16-channel 4-level
     * VAE), about 30 GB, for memory and load benchmarks.
     */
    static Path write(Path dir, long seed, boolean fullSize) throws IOException {
        TwoClips clips = TinyComponents.twoClips(dir, "CLIPTextModelWithProjection", fullSize);
        int t5Vocab = TinyT5Tokenizer.write(dir.resolve("tokenizer_3"));
        JsonObject t5;
        JsonObject transformer;
        JsonObject vae;
        if (fullSize) {
            t5 = t5XxlConfig();
            transformer = sd3MediumShapedTransformerConfig();
            vae = TinyModels.vaeConfig(TinyModels.Variant.SD15_SHAPED);
            vae.addProperty("sample_size", 1024);
        } else {
            t5 = t5Config(t5Vocab);
            transformer = transformerConfig();
            vae = TinyModels.vaeConfig(TinyModels.Variant.SD1);
        }
        // SD3's VAE: 16 latent channels, a shift factor and no quant convolutions.
        vae.addProperty("latent_channels", 16);
        vae.addProperty("scaling_factor", 1.5305);
        vae.addProperty("shift_factor", 0.0609);
        vae.addProperty("use_quant_conv", false);
        vae.addProperty("use_post_quant_conv", false);
        writeJson(dir.resolve("model_index.json"), modelIndex());
        writeJson(dir.resolve("scheduler/scheduler_config.json"), schedulerConfig());

        // The full-size models are built in float16 while their shapes are collected (half the
        // memory: T5 XXL alone is 19 GB in float32); the files hold the float32 values all the
        // same. Each component asks RandomWeights for exactly the tensors its loader will ask for.
        DataType building = fullSize ? DataType.FLOAT16 : DataType.FLOAT32;
        writeComponent(
                dir, "text_encoder", clips.text(), seed * 5 + 1, building, CLIP_WITH_PROJECTION);
        writeComponent(
                dir, "text_encoder_2", clips.text2(), seed * 5 + 2, building, CLIP_WITH_PROJECTION);
        writeComponent(dir, "text_encoder_3", t5, seed * 5 + 3, building, T5_ENCODER);
        writeComponent(dir, "transformer", transformer, seed * 5 + 4, building, SD3_TRANSFORMER);
        writeComponent(dir, "vae", vae, seed * 5 + 5, building, VAE);
        return dir;
    }

    private static JsonObject t5Config(int vocabSize) {
        JsonObject c = new JsonObject();
        c.add("architectures", strings("T5EncoderModel"));
        c.addProperty("d_ff", 160);
        c.addProperty("d_kv", 16);
        c.addProperty("d_model", 96);
        c.addProperty("dense_act_fn", "gelu_new");
        c.addProperty("feed_forward_proj", "gated-gelu");
        c.addProperty("is_gated_act", true);
        c.addProperty("layer_norm_epsilon", 1e-6);
        c.addProperty("model_type", "t5");
        c.addProperty("num_heads", 6);
        c.addProperty("num_layers", 2);
        c.addProperty("relative_attention_max_distance", 20);
        c.addProperty("relative_attention_num_buckets", 8);
        c.addProperty("vocab_size", vocabSize);
        c.addProperty("torch_dtype", "float32");
        return c;
    }

    /** T5 v1.1 XXL's encoder ({@code text_encoder_3} of SD3 medium): 4.7 B parameters. */
    private static JsonObject t5XxlConfig() {
        JsonObject c = t5Config(32128);
        c.addProperty("d_ff", 10240);
        c.addProperty("d_kv", 64);
        c.addProperty("d_model", 4096);
        c.addProperty("num_heads", 64);
        c.addProperty("num_layers", 24);
        c.addProperty("relative_attention_max_distance", 128);
        c.addProperty("relative_attention_num_buckets", 32);
        return c;
    }

    private static JsonObject transformerConfig() {
        JsonObject c = diffusersConfig("SD3Transformer2DModel");
        c.addProperty("attention_head_dim", 8);
        c.addProperty("caption_projection_dim", 32);
        c.add("dual_attention_layers", new JsonArray());
        c.addProperty("in_channels", 16);
        c.addProperty("joint_attention_dim", 96);
        c.addProperty("num_attention_heads", 4);
        c.addProperty("num_layers", 3);
        c.addProperty("out_channels", 16);
        c.addProperty("patch_size", 2);
        // both CLIPs' projections: 32 + 48
        c.addProperty("pooled_projection_dim", 80);
        c.addProperty("pos_embed_max_size", 24);
        c.add("qk_norm", JsonNull.INSTANCE);
        c.addProperty("sample_size", 32);
        return c;
    }

    /**
     * The transformer of SD3 medium ({@code
     * stabilityai/stable-diffusion-3-medium-diffusers/transformer/config.json}): 24 joint blocks of
     * 24 heads × 64 (1536 wide), T5's 4096-wide prompt embeddings, both CLIPs' 2048-wide pooled
     * embedding, patch 2, a 192-patch position table. About 2.0 B parameters: for benchmarks, built
     * in memory.
     */
    static JsonObject sd3MediumShapedTransformerConfig() {
        JsonObject c = transformerConfig();
        c.addProperty("attention_head_dim", 64);
        c.addProperty("caption_projection_dim", 1536);
        c.addProperty("joint_attention_dim", 4096);
        c.addProperty("num_attention_heads", 24);
        c.addProperty("num_layers", 24);
        c.addProperty("pooled_projection_dim", 2048);
        c.addProperty("pos_embed_max_size", 192);
        c.addProperty("sample_size", 128);
        return c;
    }

    private static JsonObject schedulerConfig() {
        JsonObject c = diffusersConfig("FlowMatchEulerDiscreteScheduler");
        c.addProperty("num_train_timesteps", 1000);
        c.addProperty("shift", 3.0);
        return c;
    }

    private static JsonObject modelIndex() {
        JsonObject c = diffusersConfig("StableDiffusion3Pipeline");
        c.add("feature_extractor", pair(null, null));
        c.add("image_encoder", pair(null, null));
        c.add("scheduler", pair("diffusers", "FlowMatchEulerDiscreteScheduler"));
        c.add("text_encoder", pair("transformers", "CLIPTextModelWithProjection"));
        c.add("text_encoder_2", pair("transformers", "CLIPTextModelWithProjection"));
        c.add("text_encoder_3", pair("transformers", "T5EncoderModel"));
        c.add("tokenizer", pair("transformers", "CLIPTokenizer"));
        c.add("tokenizer_2", pair("transformers", "CLIPTokenizer"));
        c.add("tokenizer_3", pair("transformers", "T5Tokenizer"));
        c.add("transformer", pair("diffusers", "SD3Transformer2DModel"));
        c.add("vae", pair("diffusers", "AutoencoderKL"));
        return c;
    }
}
