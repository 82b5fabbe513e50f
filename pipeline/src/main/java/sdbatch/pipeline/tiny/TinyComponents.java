package sdbatch.pipeline.tiny;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;
import java.util.TreeMap;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.config.T5Config;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.CLIPTextModelWithProjection;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.models.T5EncoderModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.weights.RandomWeights;
import sdbatch.pipeline.weights.Weights;

/**
 * What the tiny folder writers ({@link TinyModels}, {@link TinySdxl}, {@link TinySd3}, {@link
 * TinyControlNet}) share: {@code config.json} objects as {@code save_pretrained} writes them, the
 * CLIP text encoder config every family uses, and components saved with random weights.
 */
final class TinyComponents {
    static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    private TinyComponents() {}

    /**
     * A {@code config.json} object as diffusers' {@code save_pretrained} begins it: the class name,
     * then the diffusers version the tiny folders claim.
     */
    static JsonObject diffusersConfig(String className) {
        JsonObject c = new JsonObject();
        c.addProperty("_class_name", className);
        c.addProperty("_diffusers_version", "0.30.0");
        return c;
    }

    /**
     * A pipeline's {@code model_index.json} as diffusers' {@code save_pretrained} writes it: the
     * class name and version, then {@code entries} (components and flags) in key order, as
     * diffusers sorts them.
     */
    static JsonObject pipelineIndex(String pipelineClass, SortedMap<String, JsonElement> entries) {
        JsonObject c = diffusersConfig(pipelineClass);
        entries.forEach(c::add);
        return c;
    }

    /**
     * The {@code model_index.json} entries SDXL's and SD3's pipelines have in common: no feature
     * extractor or image encoder, the two CLIP tokenizers and text encoders ({@code text_encoder}
     * of class {@code firstTextEncoder}, {@code text_encoder_2} with projection) and the VAE; the
     * map is sorted and open for each pipeline's own entries.
     */
    static SortedMap<String, JsonElement> twoClipPipelineEntries(String firstTextEncoder) {
        SortedMap<String, JsonElement> c = new TreeMap<>();
        c.put("feature_extractor", pair(null, null));
        c.put("image_encoder", pair(null, null));
        c.put("text_encoder", pair("transformers", firstTextEncoder));
        c.put("text_encoder_2", pair("transformers", "CLIPTextModelWithProjection"));
        c.put("tokenizer", pair("transformers", "CLIPTokenizer"));
        c.put("tokenizer_2", pair("transformers", "CLIPTokenizer"));
        c.put("vae", pair("diffusers", "AutoencoderKL"));
        return c;
    }

    /** The keys that size a CLIP text encoder ({@code projection_dim} is the hidden size). */
    record ClipSize(
            String hiddenAct,
            int hiddenSize,
            int intermediateSize,
            int numAttentionHeads,
            int numHiddenLayers) {}

    /**
     * A transformers CLIP text encoder {@code config.json} ({@code architecture} {@code
     * CLIPTextModel} or {@code CLIPTextModelWithProjection}) over the synthetic vocabulary, padding
     * with {@code padId}.
     */
    static JsonObject clipTextConfig(
            SyntheticBpeVocabulary vocab, String architecture, ClipSize size, int padId) {
        JsonObject c = new JsonObject();
        c.add("architectures", strings(architecture));
        c.addProperty("attention_dropout", 0.0);
        c.addProperty("bos_token_id", vocab.bosId());
        c.addProperty("eos_token_id", vocab.eosId());
        c.addProperty("pad_token_id", padId);
        c.addProperty("hidden_act", size.hiddenAct());
        c.addProperty("hidden_size", size.hiddenSize());
        c.addProperty("intermediate_size", size.intermediateSize());
        c.addProperty("layer_norm_eps", 1e-5);
        c.addProperty("max_position_embeddings", 77);
        c.addProperty("model_type", "clip_text_model");
        c.addProperty("num_attention_heads", size.numAttentionHeads());
        c.addProperty("num_hidden_layers", size.numHiddenLayers());
        c.addProperty("projection_dim", size.hiddenSize());
        c.addProperty("vocab_size", vocab.size());
        c.addProperty("torch_dtype", "float32");
        return c;
    }

    /** The configs of SDXL's and SD3's two CLIP text encoders. */
    record TwoClips(JsonObject text, JsonObject text2) {}

    /**
     * SDXL's and SD3's two CLIP text encoders: CLIP ViT-L/14 ({@code quick_gelu}, {@code
     * firstArchitecture}) and OpenCLIP ViT-bigG/14 ({@code gelu}, with projection) with CLIP's
     * 49408-row tables at {@code fullSize}, else 32 and 48 wide; their tokenizers, padding with
     * {@code <|endoftext|>} and {@code !}, go into {@code tokenizer} and {@code tokenizer_2}.
     */
    static TwoClips twoClips(Path dir, String firstArchitecture, boolean fullSize)
            throws IOException {
        Files.createDirectories(dir);
        SyntheticBpeVocabulary vocab = SyntheticBpeVocabulary.train(TinyModels.MERGES);
        vocab.write(dir.resolve("tokenizer"), SyntheticBpeVocabulary.EOS);
        vocab.write(dir.resolve("tokenizer_2"), "!");
        ClipSize size1 =
                fullSize
                        ? new ClipSize("quick_gelu", 768, 3072, 12, 12)
                        : new ClipSize("quick_gelu", 32, 64, 4, 3);
        ClipSize size2 =
                fullSize
                        ? new ClipSize("gelu", 1280, 5120, 20, 32)
                        : new ClipSize("gelu", 48, 96, 4, 3);
        JsonObject text = clipTextConfig(vocab, firstArchitecture, size1, vocab.eosId());
        JsonObject text2 =
                clipTextConfig(vocab, "CLIPTextModelWithProjection", size2, vocab.id("!"));
        if (fullSize) {
            text.addProperty("vocab_size", TinyModels.CLIP_VOCAB_SIZE);
            text2.addProperty("vocab_size", TinyModels.CLIP_VOCAB_SIZE);
        }
        return new TwoClips(text, text2);
    }

    /** A model built from the weights it asks for ({@code new UNet2DConditionModel(config, w)}). */
    @FunctionalInterface
    interface ModelBuilder {
        AutoCloseable build(Weights weights);
    }

    /**
     * Builds one component with random weights of {@code seed} (kept in {@code building} while it
     * exists) and saves exactly the tensors its constructor asked for to {@code file}: the keys and
     * shapes its loader will ask for, by construction.
     */
    static void writeRandom(Path file, long seed, DataType building, ModelBuilder builder)
            throws IOException {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            RandomWeights w = new RandomWeights(seed, manager, building);
            try (AutoCloseable model = builder.build(w)) {
                w.save(file);
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException("closing the model built for " + file + ": " + e, e);
            }
        }
    }

    /**
     * A model built from its {@code config.json} text ({@code source} names it in errors) and the
     * weights it asks for.
     */
    @FunctionalInterface
    interface ConfiguredBuilder {
        AutoCloseable build(String source, String configJson, Weights weights);
    }

    static final ConfiguredBuilder CLIP_TEXT_MODEL =
            (source, json, w) -> new CLIPTextModel(CLIPTextConfig.parse(json, source), w);
    static final ConfiguredBuilder CLIP_WITH_PROJECTION =
            (source, json, w) ->
                    new CLIPTextModelWithProjection(CLIPTextConfig.parse(json, source), w);
    static final ConfiguredBuilder T5_ENCODER =
            (source, json, w) -> new T5EncoderModel(T5Config.parse(source, json), w);
    static final ConfiguredBuilder UNET =
            (source, json, w) -> new UNet2DConditionModel(UNetConfig.parse(source, json), w);
    static final ConfiguredBuilder SD3_TRANSFORMER =
            (source, json, w) ->
                    new SD3Transformer2DModel(SD3TransformerConfig.parse(source, json), w);
    static final ConfiguredBuilder VAE =
            (source, json, w) -> new AutoencoderKL(VaeConfig.parse(source, json), w);

    /**
     * Writes component folder {@code component} of {@code dir}: its {@code config.json} and, by
     * {@link #writeRandom}, its random weights under the file name its library saves: {@code
     * model.safetensors} for the transformers text encoders, {@code
     * diffusion_pytorch_model.safetensors} for diffusers models.
     */
    static void writeComponent(
            Path dir,
            String component,
            JsonObject config,
            long seed,
            DataType building,
            ConfiguredBuilder builder)
            throws IOException {
        writeJson(dir.resolve(component).resolve("config.json"), config);
        String json = GSON.toJson(config);
        String file =
                component.startsWith("text_encoder")
                        ? "model.safetensors"
                        : "diffusion_pytorch_model.safetensors";
        String source = "tiny " + component;
        writeRandom(
                dir.resolve(component).resolve(file),
                seed,
                building,
                w -> builder.build(source, json, w));
    }

    static void writeJson(Path file, JsonElement json) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, GSON.toJson(json) + "\n");
    }

    static JsonArray pair(String a, String b) {
        JsonArray arr = new JsonArray();
        arr.add(a);
        arr.add(b);
        return arr;
    }

    static JsonArray ints(int... values) {
        JsonArray arr = new JsonArray();
        for (int x : values) {
            arr.add(x);
        }
        return arr;
    }

    static JsonArray strings(String... values) {
        JsonArray arr = new JsonArray();
        for (String x : values) {
            arr.add(x);
        }
        return arr;
    }

    static JsonArray repeat(String value, int n) {
        JsonArray arr = new JsonArray();
        for (int i = 0; i < n; i++) {
            arr.add(value);
        }
        return arr;
    }
}
