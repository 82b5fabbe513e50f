package sdbatch.pipeline.tiny;

import static sdbatch.pipeline.tiny.TinyComponents.CLIP_WITH_PROJECTION;
import static sdbatch.pipeline.tiny.TinyComponents.SD3_TRANSFORMER;
import static sdbatch.pipeline.tiny.TinyComponents.T5_ENCODER;
import static sdbatch.pipeline.tiny.TinyComponents.VAE;
import static sdbatch.pipeline.tiny.TinyComponents.diffusersConfig;
import static sdbatch.pipeline.tiny.TinyComponents.pair;
import static sdbatch.pipeline.tiny.TinyComponents.pipelineIndex;
import static sdbatch.pipeline.tiny.TinyComponents.strings;
import static sdbatch.pipeline.tiny.TinyComponents.twoClipPipelineEntries;
import static sdbatch.pipeline.tiny.TinyComponents.writeComponent;
import static sdbatch.pipeline.tiny.TinyComponents.writeJson;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.SortedMap;
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
        int tokenizerVocab = TinyT5Tokenizer.write(dir.resolve("tokenizer_3"));
        JsonObject t5;
        JsonObject transformer;
        JsonObject vae;
        if (fullSize) {
            t5 = t5Config(T5_XXL, T5_VOCAB_SIZE);
            transformer = transformerConfig(SD3_MEDIUM_MMDIT);
            vae = TinyModels.vaeConfig(TinyModels.Variant.SD15_SHAPED);
            vae.addProperty("sample_size", 1024);
        } else {
            t5 = t5Config(TINY_T5, tokenizerVocab);
            transformer = transformerConfig(TINY_MMDIT);
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

    /** The keys that size a T5 encoder, in its {@code config.json} order. */
    private record T5Size(
            int dFf,
            int dKv,
            int dModel,
            int numHeads,
            int numLayers,
            int relativeAttentionMaxDistance,
            int relativeAttentionNumBuckets) {}

    /** SD3's T5 in miniature: 2 blocks of 6 heads × 16 (96 wide), a gated feed-forward of 160. */
    private static final T5Size TINY_T5 = new T5Size(160, 16, 96, 6, 2, 20, 8);

    /** T5 v1.1 XXL's encoder ({@code text_encoder_3} of SD3 medium): 4.7 B parameters. */
    private static final T5Size T5_XXL = new T5Size(10240, 64, 4096, 64, 24, 128, 32);

    /** The rows of T5's token table, kept by the full-size variant for realistic memory figures. */
    private static final int T5_VOCAB_SIZE = 32128;

    private static JsonObject t5Config(T5Size size, int vocabSize) {
        JsonObject c = new JsonObject();
        c.add("architectures", strings("T5EncoderModel"));
        c.addProperty("d_ff", size.dFf());
        c.addProperty("d_kv", size.dKv());
        c.addProperty("d_model", size.dModel());
        c.addProperty("dense_act_fn", "gelu_new");
        c.addProperty("feed_forward_proj", "gated-gelu");
        c.addProperty("is_gated_act", true);
        c.addProperty("layer_norm_epsilon", 1e-6);
        c.addProperty("model_type", "t5");
        c.addProperty("num_heads", size.numHeads());
        c.addProperty("num_layers", size.numLayers());
        c.addProperty("relative_attention_max_distance", size.relativeAttentionMaxDistance());
        c.addProperty("relative_attention_num_buckets", size.relativeAttentionNumBuckets());
        c.addProperty("vocab_size", vocabSize);
        c.addProperty("torch_dtype", "float32");
        return c;
    }

    /**
     * The keys that size an SD3 transformer (MMDiT). Its {@code caption_projection_dim} is not
     * among them: the context joins the image tokens in one attention, so it is heads × head width.
     */
    private record MmditSize(
            int numLayers,
            int numAttentionHeads,
            int attentionHeadDim,
            int jointAttentionDim,
            int pooledProjectionDim,
            int posEmbedMaxSize,
            int sampleSize) {}

    /**
     * The tiny transformer: 3 joint blocks of 4 heads × 8, T5's 96-wide prompt embeddings, both
     * CLIPs' projections (32 + 48) pooled, a 24-patch position table.
     */
    private static final MmditSize TINY_MMDIT = new MmditSize(3, 4, 8, 96, 80, 24, 32);

    /**
     * The transformer of SD3 medium ({@code
     * stabilityai/stable-diffusion-3-medium-diffusers/transformer/config.json}): 24 joint blocks of
     * 24 heads × 64 (1536 wide), T5's 4096-wide prompt embeddings, both CLIPs' 2048-wide pooled
     * embedding, patch 2, a 192-patch position table. About 2.0 B parameters.
     */
    private static final MmditSize SD3_MEDIUM_MMDIT =
            new MmditSize(24, 24, 64, 4096, 2048, 192, 128);

    private static JsonObject transformerConfig(MmditSize size) {
        JsonObject c = diffusersConfig("SD3Transformer2DModel");
        c.addProperty("attention_head_dim", size.attentionHeadDim());
        c.addProperty("caption_projection_dim", size.numAttentionHeads() * size.attentionHeadDim());
        c.add("dual_attention_layers", new JsonArray());
        c.addProperty("in_channels", 16);
        c.addProperty("joint_attention_dim", size.jointAttentionDim());
        c.addProperty("num_attention_heads", size.numAttentionHeads());
        c.addProperty("num_layers", size.numLayers());
        c.addProperty("out_channels", 16);
        c.addProperty("patch_size", 2);
        c.addProperty("pooled_projection_dim", size.pooledProjectionDim());
        c.addProperty("pos_embed_max_size", size.posEmbedMaxSize());
        c.add("qk_norm", JsonNull.INSTANCE);
        c.addProperty("sample_size", size.sampleSize());
        return c;
    }

    /** SD3 medium's transformer ({@link #SD3_MEDIUM_MMDIT}): for benchmarks, built in memory. */
    static JsonObject sd3MediumShapedTransformerConfig() {
        return transformerConfig(SD3_MEDIUM_MMDIT);
    }

    private static JsonObject schedulerConfig() {
        JsonObject c = diffusersConfig("FlowMatchEulerDiscreteScheduler");
        c.addProperty("num_train_timesteps", 1000);
        c.addProperty("shift", 3.0);
        return c;
    }

    private static JsonObject modelIndex() {
        SortedMap<String, JsonElement> c = twoClipPipelineEntries("CLIPTextModelWithProjection");
        c.put("scheduler", pair("diffusers", "FlowMatchEulerDiscreteScheduler"));
        c.put("text_encoder_3", pair("transformers", "T5EncoderModel"));
        c.put("tokenizer_3", pair("transformers", "T5Tokenizer"));
        c.put("transformer", pair("diffusers", "SD3Transformer2DModel"));
        return pipelineIndex("StableDiffusion3Pipeline", c);
    }
}
