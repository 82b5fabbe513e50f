package sdbatch.pipeline.tiny;

import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.config.T5Config;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModelWithProjection;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.models.T5EncoderModel;

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
    private static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    /** Whole words of the T5 vocabulary (the rest of a prompt falls back to letters). */
    private static final String WORDS =
            "a an the of and in on with at photo photograph astronaut riding horse moon cat dog"
                    + " portrait woman man landscape mountains lake sunset city street night rain"
                    + " forest river castle dragon sea red blue green yellow black white light"
                    + " painting detailed highly cinematic lighting art watercolor sky clouds snow";

    private TinySd3() {}

    static Path write(Path dir, long seed) throws IOException {
        return write(dir, seed, false);
    }

    /**
     * Writes the folder; {@code fullSize}: SD3 medium's real shapes ({@link
     * TinyModels.Variant#SD3_MEDIUM_SHAPED}: CLIP ViT-L and OpenCLIP bigG with projections, T5 v1.1
     * XXL's encoder (4.7 B parameters), the 2.0 B-parameter transformer, the 16-channel 4-level
     * VAE), about 30 GB, for memory and load benchmarks.
     */
    static Path write(Path dir, long seed, boolean fullSize) throws IOException {
        Files.createDirectories(dir);
        SyntheticBpeVocabulary vocab = SyntheticBpeVocabulary.train(TinyModels.MERGES);
        vocab.write(dir.resolve("tokenizer"), SyntheticBpeVocabulary.EOS);
        vocab.write(dir.resolve("tokenizer_2"), "!");
        int t5Vocab = writeT5Tokenizer(dir.resolve("tokenizer_3"));

        JsonObject text;
        JsonObject text2;
        JsonObject t5;
        JsonObject transformer;
        JsonObject vae = vaeConfig();
        if (fullSize) {
            text = clipConfig(vocab, "quick_gelu", 768, 3072, vocab.eosId(), 12, 12);
            text2 = clipConfig(vocab, "gelu", 1280, 5120, vocab.id("!"), 20, 32);
            text.addProperty("vocab_size", TinyModels.CLIP_VOCAB_SIZE);
            text2.addProperty("vocab_size", TinyModels.CLIP_VOCAB_SIZE);
            t5 = t5XxlConfig();
            transformer = sd3MediumShapedTransformerConfig();
            vae.add("block_out_channels", ints(128, 256, 512, 512));
            vae.add("down_block_types", TinyModels.repeat("DownEncoderBlock2D", 4));
            vae.add("up_block_types", TinyModels.repeat("UpDecoderBlock2D", 4));
            vae.addProperty("layers_per_block", 2);
            vae.addProperty("norm_num_groups", 32);
            vae.addProperty("sample_size", 1024);
        } else {
            text = clipConfig(vocab, "quick_gelu", 32, 64, vocab.eosId(), 4, 3);
            text2 = clipConfig(vocab, "gelu", 48, 96, vocab.id("!"), 4, 3);
            t5 = t5Config(t5Vocab);
            transformer = transformerConfig();
        }
        TinyModels.writeJson(dir.resolve("model_index.json"), modelIndex());
        TinyModels.writeJson(dir.resolve("scheduler/scheduler_config.json"), schedulerConfig());
        TinyModels.writeJson(dir.resolve("text_encoder/config.json"), text);
        TinyModels.writeJson(dir.resolve("text_encoder_2/config.json"), text2);
        TinyModels.writeJson(dir.resolve("text_encoder_3/config.json"), t5);
        TinyModels.writeJson(dir.resolve("transformer/config.json"), transformer);
        TinyModels.writeJson(dir.resolve("vae/config.json"), vae);

        // The full-size models are built in float16 while their shapes are collected (half the
        // memory: T5 XXL alone is 19 GB in float32); the files hold the float32 values all the
        // same.
        DataType building = fullSize ? DataType.FLOAT16 : DataType.FLOAT32;
        // Each component asks RandomWeights for exactly the tensors its loader will ask for.
        TinyModels.writeRandom(
                dir.resolve("text_encoder/model.safetensors"),
                seed * 5 + 1,
                building,
                w ->
                        new CLIPTextModelWithProjection(
                                CLIPTextConfig.parse(GSON.toJson(text), "tiny text_encoder"), w));
        TinyModels.writeRandom(
                dir.resolve("text_encoder_2/model.safetensors"),
                seed * 5 + 2,
                building,
                w ->
                        new CLIPTextModelWithProjection(
                                CLIPTextConfig.parse(GSON.toJson(text2), "tiny text_encoder_2"),
                                w));
        TinyModels.writeRandom(
                dir.resolve("text_encoder_3/model.safetensors"),
                seed * 5 + 3,
                building,
                w -> new T5EncoderModel(T5Config.parse("tiny text_encoder_3", GSON.toJson(t5)), w));
        TinyModels.writeRandom(
                dir.resolve("transformer/diffusion_pytorch_model.safetensors"),
                seed * 5 + 4,
                building,
                w ->
                        new SD3Transformer2DModel(
                                SD3TransformerConfig.parse(
                                        "tiny transformer", GSON.toJson(transformer)),
                                w));
        TinyModels.writeRandom(
                dir.resolve("vae/diffusion_pytorch_model.safetensors"),
                seed * 5 + 5,
                building,
                w -> new AutoencoderKL(VaeConfig.parse("tiny vae", GSON.toJson(vae)), w));
        return dir;
    }

    private static JsonObject clipConfig(
            SyntheticBpeVocabulary vocab,
            String act,
            int hidden,
            int intermediate,
            int padId,
            int heads,
            int layers) {
        JsonObject c = new JsonObject();
        c.add("architectures", strings("CLIPTextModelWithProjection"));
        c.addProperty("attention_dropout", 0.0);
        c.addProperty("bos_token_id", vocab.bosId());
        c.addProperty("eos_token_id", vocab.eosId());
        c.addProperty("pad_token_id", padId);
        c.addProperty("hidden_act", act);
        c.addProperty("hidden_size", hidden);
        c.addProperty("intermediate_size", intermediate);
        c.addProperty("layer_norm_eps", 1e-5);
        c.addProperty("max_position_embeddings", 77);
        c.addProperty("model_type", "clip_text_model");
        c.addProperty("num_attention_heads", heads);
        c.addProperty("num_hidden_layers", layers);
        c.addProperty("projection_dim", hidden);
        c.addProperty("vocab_size", vocab.size());
        c.addProperty("torch_dtype", "float32");
        return c;
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
        JsonObject c = TinyModels.diffusersConfig("SD3Transformer2DModel");
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
        JsonObject c = TinyModels.diffusersConfig("SD3Transformer2DModel");
        c.addProperty("attention_head_dim", 64);
        c.addProperty("caption_projection_dim", 1536);
        c.add("dual_attention_layers", new JsonArray());
        c.addProperty("in_channels", 16);
        c.addProperty("joint_attention_dim", 4096);
        c.addProperty("num_attention_heads", 24);
        c.addProperty("num_layers", 24);
        c.addProperty("out_channels", 16);
        c.addProperty("patch_size", 2);
        c.addProperty("pooled_projection_dim", 2048);
        c.addProperty("pos_embed_max_size", 192);
        c.add("qk_norm", JsonNull.INSTANCE);
        c.addProperty("sample_size", 128);
        return c;
    }

    private static JsonObject vaeConfig() {
        JsonObject c = TinyModels.diffusersConfig("AutoencoderKL");
        c.addProperty("act_fn", "silu");
        c.add("block_out_channels", ints(32, 64));
        c.add("down_block_types", strings("DownEncoderBlock2D", "DownEncoderBlock2D"));
        c.add("up_block_types", strings("UpDecoderBlock2D", "UpDecoderBlock2D"));
        c.addProperty("force_upcast", true);
        c.addProperty("in_channels", 3);
        c.addProperty("out_channels", 3);
        c.addProperty("latent_channels", 16);
        c.addProperty("layers_per_block", 1);
        c.addProperty("norm_num_groups", 8);
        c.addProperty("sample_size", 64);
        c.addProperty("scaling_factor", 1.5305);
        c.addProperty("shift_factor", 0.0609);
        c.addProperty("use_quant_conv", false);
        c.addProperty("use_post_quant_conv", false);
        return c;
    }

    private static JsonObject schedulerConfig() {
        JsonObject c = TinyModels.diffusersConfig("FlowMatchEulerDiscreteScheduler");
        c.addProperty("num_train_timesteps", 1000);
        c.addProperty("shift", 3.0);
        return c;
    }

    private static JsonObject modelIndex() {
        JsonObject c = TinyModels.diffusersConfig("StableDiffusion3Pipeline");
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

    /**
     * A T5-shaped Unigram {@code tokenizer.json} and its {@code tokenizer_config.json}: special
     * tokens, "▁", the words of {@link #WORDS} after "▁", and single letters, digits and
     * punctuation (so any ASCII prompt tokenizes; other characters become {@code <unk>}).
     *
     * @return the vocabulary size
     */
    private static int writeT5Tokenizer(Path dir) throws IOException {
        Set<String> pieces = new LinkedHashSet<>();
        List<Double> scores = new ArrayList<>();
        for (String special : List.of("<pad>", "</s>", "<unk>")) {
            pieces.add(special);
            scores.add(0.0);
        }
        pieces.add("\u2581");
        scores.add(-3.0);
        for (String w : WORDS.split(" ")) {
            if (pieces.add("\u2581" + w)) {
                scores.add(-4.0 - 0.01 * scores.size());
            }
        }
        for (char ch = '!'; ch <= '~'; ch++) {
            if (pieces.add(String.valueOf(ch))) {
                scores.add(-10.0);
            }
        }
        JsonArray vocab = new JsonArray();
        int i = 0;
        for (String p : pieces) {
            JsonArray e = new JsonArray();
            e.add(p);
            e.add(scores.get(i++));
            vocab.add(e);
        }
        JsonObject model = new JsonObject();
        model.addProperty("type", "Unigram");
        model.addProperty("unk_id", 2);
        model.add("vocab", vocab);
        model.addProperty("byte_fallback", false);

        JsonArray added = new JsonArray();
        String[] special = {"<pad>", "</s>", "<unk>"};
        for (int id = 0; id < special.length; id++) {
            JsonObject t = new JsonObject();
            t.addProperty("id", id);
            t.addProperty("content", special[id]);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        JsonObject metaspace = new JsonObject();
        metaspace.addProperty("type", "Metaspace");
        metaspace.addProperty("replacement", "\u2581");
        metaspace.addProperty("prepend_scheme", "always");
        metaspace.addProperty("split", true);
        JsonObject post = new JsonObject();
        post.addProperty("type", "TemplateProcessing");
        post.add("single", template("A"));
        JsonArray pair = template("A");
        pair.addAll(template("B"));
        post.add("pair", pair);
        JsonObject eos = new JsonObject();
        eos.addProperty("id", "</s>");
        eos.add("ids", ints(1));
        eos.add("tokens", strings("</s>"));
        JsonObject specials = new JsonObject();
        specials.add("</s>", eos);
        post.add("special_tokens", specials);

        JsonObject tok = new JsonObject();
        tok.addProperty("version", "1.0");
        tok.add("truncation", JsonNull.INSTANCE);
        tok.add("padding", JsonNull.INSTANCE);
        tok.add("added_tokens", added);
        tok.add("normalizer", JsonNull.INSTANCE);
        tok.add("pre_tokenizer", metaspace);
        tok.add("post_processor", post);
        tok.add("decoder", metaspace);
        tok.add("model", model);
        TinyModels.writeJson(dir.resolve("tokenizer.json"), tok);

        JsonObject config = new JsonObject();
        config.addProperty("eos_token", "</s>");
        config.addProperty("model_max_length", 512);
        config.addProperty("pad_token", "<pad>");
        config.addProperty("tokenizer_class", "T5Tokenizer");
        config.addProperty("unk_token", "<unk>");
        TinyModels.writeJson(dir.resolve("tokenizer_config.json"), config);
        return pieces.size();
    }

    /** {@code [$X, </s>]} of a TemplateProcessing. */
    private static JsonArray template(String sequence) {
        JsonObject seq = new JsonObject();
        JsonObject s = new JsonObject();
        s.addProperty("id", sequence);
        s.addProperty("type_id", 0);
        seq.add("Sequence", s);
        JsonObject end = new JsonObject();
        JsonObject e = new JsonObject();
        e.addProperty("id", "</s>");
        e.addProperty("type_id", 0);
        end.add("SpecialToken", e);
        JsonArray a = new JsonArray();
        a.add(seq);
        a.add(end);
        return a;
    }

    private static JsonArray pair(String a, String b) {
        JsonArray arr = new JsonArray();
        arr.add(a);
        arr.add(b);
        return arr;
    }

    private static JsonArray ints(int... values) {
        JsonArray arr = new JsonArray();
        for (int x : values) {
            arr.add(x);
        }
        return arr;
    }

    private static JsonArray strings(String... values) {
        JsonArray arr = new JsonArray();
        for (String x : values) {
            arr.add(x);
        }
        return arr;
    }
}
