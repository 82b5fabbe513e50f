package sdbatch.pipeline.tiny;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.weights.RandomWeights;
import sdbatch.pipeline.weights.Weights;

/**
 * Writes random-weight Stable Diffusion models in the real diffusers folder layout: {@code
 * model_index.json}, {@code unet/}, {@code vae/}, {@code text_encoder/}, {@code tokenizer/}, {@code
 * scheduler/}, weights in safetensors, exactly what {@code save_pretrained} writes. The demo and
 * every self-contained test run on these; they draw noise, not pictures.
 *
 * <p>Deterministic: the same variant and seed give byte-identical files. Weights come from {@link
 * sdbatch.pipeline.weights.RandomWeights} asked for by the model classes themselves, so the saved
 * keys and shapes are exactly what the loader expects.
 */
public final class TinyModels {
    static final Gson GSON =
            new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create();

    /** Which model family a tiny model imitates. */
    public enum Variant {
        /** SD 1.x: conv projections, one head size, quick_gelu, PNDM, epsilon, pad with eos. */
        SD1,
        /** SD 2.x 768-v: linear projections, per-block heads, upcast, gelu, DDIM, v_prediction. */
        SD2V,
        /**
         * The real SD 1.5 shape (860M UNet parameters, CLIP ViT-L/14 text encoder, 4-level VAE)
         * with random weights: for benchmarks, several GB on disk.
         */
        SD15_SHAPED,
        /**
         * SDXL ({@code StableDiffusionXLPipeline}): two text encoders (the second with a
         * projection, padding with {@code !}), a UNet with {@code text_time} added conditioning and
         * a level without attention, the SDXL VAE factor and Euler ({@link TinySdxl}).
         */
        SDXL,
        /**
         * SDXL 1.0 base's real shapes with random weights (2.6 B UNet parameters, CLIP ViT-L and
         * OpenCLIP bigG): for memory and load benchmarks, about 14 GB on disk.
         */
        SDXL_SHAPED,
        /**
         * SD3-medium's structure in miniature (two CLIPs with projection, T5, an MMDiT, a
         * 16-channel VAE, flow matching): written by {@code TinySd3}.
         */
        SD3,
        /**
         * SD3 medium's real shapes with random weights (2.0 B transformer parameters, T5 XXL's 4.7
         * B, both CLIPs): for memory and load benchmarks, about 30 GB on disk.
         */
        SD3_MEDIUM_SHAPED
    }

    private TinyModels() {}

    /** Rows of CLIP's token table, kept by the full-size variants for realistic memory figures. */
    static final int CLIP_VOCAB_SIZE = 49408;

    /** Merges in the synthetic vocabulary: enough to make common prompt words single tokens. */
    static final int MERGES = 400;

    /**
     * Writes a complete diffusers pipeline folder for {@code variant} into {@code dir} (created if
     * needed; existing files are overwritten).
     *
     * @param seed seeds every weight; the same variant and seed give byte-identical files
     * @return {@code dir}
     */
    public static Path write(Path dir, Variant variant, long seed) throws IOException {
        if (variant == Variant.SDXL || variant == Variant.SDXL_SHAPED) {
            return TinySdxl.write(dir, seed, variant == Variant.SDXL_SHAPED);
        }
        if (variant == Variant.SD3 || variant == Variant.SD3_MEDIUM_SHAPED) {
            return TinySd3.write(dir, seed, variant == Variant.SD3_MEDIUM_SHAPED);
        }
        Files.createDirectories(dir);
        SyntheticBpeVocabulary vocab = SyntheticBpeVocabulary.train(MERGES);
        String pad = variant == Variant.SD2V ? "!" : SyntheticBpeVocabulary.EOS;
        vocab.write(dir.resolve("tokenizer"), pad);
        writeJson(dir.resolve("model_index.json"), modelIndex(variant));
        writeJson(dir.resolve("scheduler/scheduler_config.json"), schedulerConfig(variant));

        JsonObject text = textEncoderConfig(variant, vocab);
        writeJson(dir.resolve("text_encoder/config.json"), text);
        JsonObject unet = unetConfig(variant);
        writeJson(dir.resolve("unet/config.json"), unet);
        JsonObject vae = vaeConfig(variant);
        writeJson(dir.resolve("vae/config.json"), vae);

        writeRandom(
                dir.resolve("text_encoder/model.safetensors"),
                seed * 3 + 1,
                DataType.FLOAT32,
                w -> new CLIPTextModel(CLIPTextConfig.parse(GSON.toJson(text), "tiny text"), w));
        writeRandom(
                dir.resolve("unet/diffusion_pytorch_model.safetensors"),
                seed * 3 + 2,
                DataType.FLOAT32,
                w -> new UNet2DConditionModel(UNetConfig.parse("tiny unet", GSON.toJson(unet)), w));
        writeRandom(
                dir.resolve("vae/diffusion_pytorch_model.safetensors"),
                seed * 3 + 3,
                DataType.FLOAT32,
                w -> new AutoencoderKL(VaeConfig.parse("tiny vae", GSON.toJson(vae)), w));
        return dir;
    }

    /**
     * The {@code unet/config.json} text that {@link #write} writes for {@code variant}: lets a
     * benchmark build the UNet in memory (e.g. the SD 1.5 shape) without writing gigabytes.
     */
    public static String unetConfigJson(Variant variant) {
        return GSON.toJson(unetConfig(variant));
    }

    /**
     * The {@code unet/config.json} text of SDXL 1.0 base's UNet (about 2.6 B parameters): lets a
     * benchmark build it in memory with random weights.
     */
    public static String sdxlShapedUnetConfigJson() {
        return GSON.toJson(TinySdxl.sdxlShapedUnetConfig());
    }

    /**
     * The {@code transformer/config.json} text of SD3 medium's MMDiT (about 2.0 B parameters): lets
     * a benchmark build it in memory with random weights.
     */
    public static String sd3MediumShapedTransformerConfigJson() {
        return GSON.toJson(TinySd3.sd3MediumShapedTransformerConfig());
    }

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

    static JsonObject unetConfig(Variant v) {
        JsonObject c = diffusersConfig("UNet2DConditionModel");
        c.addProperty("act_fn", "silu");
        c.addProperty("center_input_sample", false);
        c.addProperty("downsample_padding", 1);
        c.addProperty("flip_sin_to_cos", true);
        c.addProperty("freq_shift", 0);
        c.addProperty("in_channels", 4);
        c.addProperty("out_channels", 4);
        c.addProperty("mid_block_scale_factor", 1);
        c.addProperty("mid_block_type", "UNetMidBlock2DCrossAttn");
        c.addProperty("norm_eps", 1e-5);
        c.addProperty("transformer_layers_per_block", 1);
        switch (v) {
            case SD1, SD2V -> {
                c.add("block_out_channels", ints(32, 64));
                c.add("down_block_types", strings("CrossAttnDownBlock2D", "DownBlock2D"));
                c.add("up_block_types", strings("UpBlock2D", "CrossAttnUpBlock2D"));
                c.addProperty("layers_per_block", 1);
                c.addProperty("norm_num_groups", 8);
                c.addProperty("sample_size", 32);
                if (v == Variant.SD1) {
                    c.addProperty("attention_head_dim", 8);
                    c.addProperty("cross_attention_dim", 32);
                    c.addProperty("use_linear_projection", false);
                    c.addProperty("upcast_attention", false);
                } else {
                    c.add("attention_head_dim", ints(4, 8));
                    c.addProperty("cross_attention_dim", 48);
                    c.addProperty("use_linear_projection", true);
                    c.addProperty("upcast_attention", true);
                }
            }
            case SD3, SD3_MEDIUM_SHAPED ->
                    throw new IllegalArgumentException("an SD3 model has no UNet");
            case SD15_SHAPED -> {
                c.add("block_out_channels", ints(320, 640, 1280, 1280));
                c.add(
                        "down_block_types",
                        strings(
                                "CrossAttnDownBlock2D",
                                "CrossAttnDownBlock2D",
                                "CrossAttnDownBlock2D",
                                "DownBlock2D"));
                c.add(
                        "up_block_types",
                        strings(
                                "UpBlock2D",
                                "CrossAttnUpBlock2D",
                                "CrossAttnUpBlock2D",
                                "CrossAttnUpBlock2D"));
                c.addProperty("layers_per_block", 2);
                c.addProperty("norm_num_groups", 32);
                c.addProperty("sample_size", 64);
                c.addProperty("attention_head_dim", 8);
                c.addProperty("cross_attention_dim", 768);
                c.addProperty("use_linear_projection", false);
                c.addProperty("upcast_attention", false);
            }
        }
        return c;
    }

    static JsonObject vaeConfig(Variant v) {
        JsonObject c = diffusersConfig("AutoencoderKL");
        c.addProperty("act_fn", "silu");
        c.addProperty("in_channels", 3);
        c.addProperty("out_channels", 3);
        c.addProperty("latent_channels", 4);
        c.addProperty("scaling_factor", 0.18215);
        c.addProperty("force_upcast", true);
        if (v == Variant.SD15_SHAPED) {
            c.add("block_out_channels", ints(128, 256, 512, 512));
            c.add("down_block_types", repeat("DownEncoderBlock2D", 4));
            c.add("up_block_types", repeat("UpDecoderBlock2D", 4));
            c.addProperty("layers_per_block", 2);
            c.addProperty("norm_num_groups", 32);
            c.addProperty("sample_size", 512);
        } else {
            c.add("block_out_channels", ints(32, 64));
            c.add("down_block_types", repeat("DownEncoderBlock2D", 2));
            c.add("up_block_types", repeat("UpDecoderBlock2D", 2));
            c.addProperty("layers_per_block", 1);
            c.addProperty("norm_num_groups", 8);
            c.addProperty("sample_size", 64);
        }
        return c;
    }

    /** The keys that size a variant's text encoder ({@code projection_dim} is the hidden size). */
    private record TextEncoderSize(
            String hiddenAct,
            int hiddenSize,
            int intermediateSize,
            int numAttentionHeads,
            int numHiddenLayers) {}

    static JsonObject textEncoderConfig(Variant v, SyntheticBpeVocabulary vocab) {
        // The SD 1.5-shaped model keeps CLIP's table size (49408 rows) for realistic memory and
        // load figures; the synthetic tokenizer only ever uses its first few hundred ids.
        int vocabSize = v == Variant.SD15_SHAPED ? CLIP_VOCAB_SIZE : vocab.size();
        int padId = v == Variant.SD2V ? vocab.id("!") : vocab.eosId();
        JsonObject c = new JsonObject();
        c.add("architectures", strings("CLIPTextModel"));
        c.addProperty("attention_dropout", 0.0);
        c.addProperty("bos_token_id", vocab.bosId());
        c.addProperty("eos_token_id", vocab.eosId());
        c.addProperty("pad_token_id", padId);
        c.addProperty("layer_norm_eps", 1e-5);
        c.addProperty("max_position_embeddings", 77);
        c.addProperty("model_type", "clip_text_model");
        c.addProperty("vocab_size", vocabSize);
        c.addProperty("torch_dtype", "float32");
        TextEncoderSize size =
                switch (v) {
                    case SD1 -> new TextEncoderSize("quick_gelu", 32, 64, 4, 3);
                    case SD2V -> new TextEncoderSize("gelu", 48, 96, 4, 3);
                    case SD15_SHAPED -> new TextEncoderSize("quick_gelu", 768, 3072, 12, 12);
                    case SDXL, SDXL_SHAPED ->
                            throw new IllegalArgumentException("SDXL's encoders are TinySdxl's");
                    case SD3, SD3_MEDIUM_SHAPED ->
                            throw new IllegalArgumentException(
                                    "SD3's text encoders are written by TinySd3");
                };
        c.addProperty("hidden_act", size.hiddenAct());
        c.addProperty("hidden_size", size.hiddenSize());
        c.addProperty("intermediate_size", size.intermediateSize());
        c.addProperty("num_attention_heads", size.numAttentionHeads());
        c.addProperty("num_hidden_layers", size.numHiddenLayers());
        c.addProperty("projection_dim", size.hiddenSize());
        return c;
    }

    static JsonObject schedulerConfig(Variant v) {
        JsonObject c = diffusersConfig(v == Variant.SD2V ? "DDIMScheduler" : "PNDMScheduler");
        c.addProperty("beta_start", 0.00085);
        c.addProperty("beta_end", 0.012);
        c.addProperty("beta_schedule", "scaled_linear");
        c.addProperty("clip_sample", false);
        c.addProperty("num_train_timesteps", 1000);
        c.addProperty("set_alpha_to_one", false);
        c.addProperty("steps_offset", 1);
        c.addProperty("timestep_spacing", "leading");
        c.add("trained_betas", JsonNull.INSTANCE);
        if (v == Variant.SD2V) {
            c.addProperty("prediction_type", "v_prediction");
        } else {
            c.addProperty("prediction_type", "epsilon");
            c.addProperty("skip_prk_steps", true);
        }
        return c;
    }

    static JsonObject modelIndex(Variant v) {
        JsonObject c = diffusersConfig("StableDiffusionPipeline");
        c.add("feature_extractor", pair(null, null));
        c.add("requires_safety_checker", new com.google.gson.JsonPrimitive(false));
        c.add("safety_checker", pair(null, null));
        c.add("scheduler", pair("diffusers", schedulerConfig(v).get("_class_name").getAsString()));
        c.add("text_encoder", pair("transformers", "CLIPTextModel"));
        c.add("tokenizer", pair("transformers", "CLIPTokenizer"));
        c.add("unet", pair("diffusers", "UNet2DConditionModel"));
        c.add("vae", pair("diffusers", "AutoencoderKL"));
        return c;
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
