package sdbatch.pipeline.tiny;

import static sdbatch.pipeline.tiny.TinyComponents.CLIP_TEXT_MODEL;
import static sdbatch.pipeline.tiny.TinyComponents.GSON;
import static sdbatch.pipeline.tiny.TinyComponents.UNET;
import static sdbatch.pipeline.tiny.TinyComponents.VAE;
import static sdbatch.pipeline.tiny.TinyComponents.clipTextConfig;
import static sdbatch.pipeline.tiny.TinyComponents.diffusersConfig;
import static sdbatch.pipeline.tiny.TinyComponents.ints;
import static sdbatch.pipeline.tiny.TinyComponents.pair;
import static sdbatch.pipeline.tiny.TinyComponents.repeat;
import static sdbatch.pipeline.tiny.TinyComponents.strings;
import static sdbatch.pipeline.tiny.TinyComponents.writeComponent;
import static sdbatch.pipeline.tiny.TinyComponents.writeJson;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import sdbatch.pipeline.tiny.TinyComponents.ClipSize;

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
        writeComponent(dir, "text_encoder", text, seed * 3 + 1, DataType.FLOAT32, CLIP_TEXT_MODEL);
        writeComponent(dir, "unet", unetConfig(variant), seed * 3 + 2, DataType.FLOAT32, UNET);
        writeComponent(dir, "vae", vaeConfig(variant), seed * 3 + 3, DataType.FLOAT32, VAE);
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

    /**
     * The keys that size an {@code AutoencoderKL}: the width of each level (one down and one up
     * block per level), resnets per block, GroupNorm groups and the image size trained at.
     */
    private record VaeSize(
            int[] blockOutChannels, int layersPerBlock, int normNumGroups, int sampleSize) {}

    /** The SD 1.x / 2.x / SDXL VAE: four levels, 128 to 512 wide, 512² images. */
    private static final VaeSize SD_VAE = new VaeSize(new int[] {128, 256, 512, 512}, 2, 32, 512);

    /** The tiny VAE: two levels (one halving), 32 and 64 wide. */
    private static final VaeSize TINY_VAE = new VaeSize(new int[] {32, 64}, 1, 8, 64);

    static JsonObject vaeConfig(Variant v) {
        VaeSize size = v == Variant.SD15_SHAPED ? SD_VAE : TINY_VAE;
        int levels = size.blockOutChannels().length;
        JsonObject c = diffusersConfig("AutoencoderKL");
        c.addProperty("act_fn", "silu");
        c.addProperty("in_channels", 3);
        c.addProperty("out_channels", 3);
        c.addProperty("latent_channels", 4);
        c.addProperty("scaling_factor", 0.18215);
        c.addProperty("force_upcast", true);
        c.add("block_out_channels", ints(size.blockOutChannels()));
        c.add("down_block_types", repeat("DownEncoderBlock2D", levels));
        c.add("up_block_types", repeat("UpDecoderBlock2D", levels));
        c.addProperty("layers_per_block", size.layersPerBlock());
        c.addProperty("norm_num_groups", size.normNumGroups());
        c.addProperty("sample_size", size.sampleSize());
        return c;
    }

    static JsonObject textEncoderConfig(Variant v, SyntheticBpeVocabulary vocab) {
        int padId = v == Variant.SD2V ? vocab.id("!") : vocab.eosId();
        ClipSize size =
                switch (v) {
                    case SD1 -> new ClipSize("quick_gelu", 32, 64, 4, 3);
                    case SD2V -> new ClipSize("gelu", 48, 96, 4, 3);
                    case SD15_SHAPED -> new ClipSize("quick_gelu", 768, 3072, 12, 12);
                    case SDXL, SDXL_SHAPED ->
                            throw new IllegalArgumentException("SDXL's encoders are TinySdxl's");
                    case SD3, SD3_MEDIUM_SHAPED ->
                            throw new IllegalArgumentException(
                                    "SD3's text encoders are written by TinySd3");
                };
        JsonObject c = clipTextConfig(vocab, "CLIPTextModel", size, padId);
        if (v == Variant.SD15_SHAPED) {
            // The SD 1.5-shaped model keeps CLIP's table size (49408 rows) for realistic memory
            // and load figures; the synthetic tokenizer only ever uses its first few hundred ids.
            c.addProperty("vocab_size", CLIP_VOCAB_SIZE);
        }
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
        c.add("requires_safety_checker", new JsonPrimitive(false));
        c.add("safety_checker", pair(null, null));
        c.add("scheduler", pair("diffusers", schedulerConfig(v).get("_class_name").getAsString()));
        c.add("text_encoder", pair("transformers", "CLIPTextModel"));
        c.add("tokenizer", pair("transformers", "CLIPTokenizer"));
        c.add("unet", pair("diffusers", "UNet2DConditionModel"));
        c.add("vae", pair("diffusers", "AutoencoderKL"));
        return c;
    }
}
