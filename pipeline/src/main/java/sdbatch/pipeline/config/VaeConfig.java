package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The configuration of diffusers' {@code AutoencoderKL}, read from {@code vae/config.json}.
 *
 * <p>Every field has diffusers' {@code AutoencoderKL.__init__} default and this record is the only
 * place those defaults live. Unknown keys are kept in {@link #extra()} and logged once.
 *
 * @param inChannels {@code in_channels}: image channels (3)
 * @param outChannels {@code out_channels}: image channels (3)
 * @param downBlockTypes {@code down_block_types}: only {@code DownEncoderBlock2D}
 * @param upBlockTypes {@code up_block_types}: only {@code UpDecoderBlock2D}
 * @param blockOutChannels {@code block_out_channels}, one per level
 * @param layersPerBlock {@code layers_per_block} of the encoder (the decoder has one more)
 * @param actFn {@code act_fn}: only {@code silu}
 * @param latentChannels {@code latent_channels}
 * @param normNumGroups {@code norm_num_groups}
 * @param sampleSize {@code sample_size}: image size the model was trained at
 * @param scalingFactor {@code scaling_factor}: latents are divided by it before decoding
 * @param shiftFactor {@code shift_factor} or null
 * @param forceUpcast {@code force_upcast}: decode in float32 even for a half-precision pipeline
 * @param useQuantConv {@code use_quant_conv}
 * @param usePostQuantConv {@code use_post_quant_conv}
 * @param midBlockAddAttention {@code mid_block_add_attention}
 * @param extra every key of the file this record does not model, unmodifiable
 */
public record VaeConfig(
        int inChannels,
        int outChannels,
        List<String> downBlockTypes,
        List<String> upBlockTypes,
        List<Integer> blockOutChannels,
        int layersPerBlock,
        String actFn,
        int latentChannels,
        int normNumGroups,
        int sampleSize,
        double scalingFactor,
        Double shiftFactor,
        boolean forceUpcast,
        boolean useQuantConv,
        boolean usePostQuantConv,
        boolean midBlockAddAttention,
        Map<String, JsonElement> extra) {

    private static final ConfigReader<VaeConfig> READER =
            ConfigReader.diffusersModel(VaeConfig.class, VaeConfig::from);

    // diffusers AutoencoderKL.__init__ defaults (models/autoencoders/autoencoder_kl.py).
    public static final int IN_CHANNELS_DEFAULT = 3;
    public static final int OUT_CHANNELS_DEFAULT = 3;
    public static final String DOWN_ENCODER_BLOCK = "DownEncoderBlock2D";
    public static final String UP_DECODER_BLOCK = "UpDecoderBlock2D";
    public static final List<Integer> BLOCK_OUT_CHANNELS_DEFAULT = List.of(64);
    public static final int LAYERS_PER_BLOCK_DEFAULT = 1;
    public static final String ACT_FN_DEFAULT = "silu";
    public static final int LATENT_CHANNELS_DEFAULT = 4;
    public static final int NORM_NUM_GROUPS_DEFAULT = 32;
    public static final int SAMPLE_SIZE_DEFAULT = 32;
    public static final double SCALING_FACTOR_DEFAULT = 0.18215;

    public VaeConfig {
        int n = blockOutChannels.size();
        check(n > 0, "block_out_channels", blockOutChannels, "is empty");
        check(downBlockTypes.size() == n, "down_block_types", downBlockTypes, "needs " + n);
        check(upBlockTypes.size() == n, "up_block_types", upBlockTypes, "needs " + n);
        for (String t : downBlockTypes) {
            check(DOWN_ENCODER_BLOCK.equals(t), "down_block_types", t, "is not supported");
        }
        for (String t : upBlockTypes) {
            check(UP_DECODER_BLOCK.equals(t), "up_block_types", t, "is not supported");
        }
        check("silu".equals(actFn), "act_fn", actFn, "is not supported (supported: silu)");
        check(layersPerBlock > 0, "layers_per_block", layersPerBlock, "must be positive");
        check(latentChannels > 0, "latent_channels", latentChannels, "must be positive");
        check(normNumGroups > 0, "norm_num_groups", normNumGroups, "must be positive");
        for (int c : blockOutChannels) {
            check(
                    c > 0 && c % normNumGroups == 0,
                    "block_out_channels",
                    blockOutChannels,
                    "must be positive multiples of norm_num_groups " + normNumGroups);
        }
        check(scalingFactor > 0, "scaling_factor", scalingFactor, "must be positive");
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        extra = extra == null ? Map.of() : extra;
    }

    private static void check(boolean ok, String key, Object value, String rule) {
        DiffusersConfigJson.check("vae", ok, key, value, rule);
    }

    /** Reads {@code <vaeDir>/config.json}. */
    public static VaeConfig load(Path vaeDir) {
        return READER.load(vaeDir);
    }

    /** Parses the text of a {@code config.json}; {@code source} names it in errors. */
    public static VaeConfig parse(String source, String json) {
        return READER.parse(source, json);
    }

    private static VaeConfig from(DiffusersConfigJson j) {
        // Only the default (unshifted, unnormalised) latent space is implemented.
        j.requireDefault("latents_mean", null, "per-channel latent normalisation");
        j.requireDefault("latents_std", null, "per-channel latent normalisation");
        List<Integer> channels = j.getInts("block_out_channels", BLOCK_OUT_CHANNELS_DEFAULT);
        VaeConfig c =
                new VaeConfig(
                        j.getInt("in_channels", IN_CHANNELS_DEFAULT),
                        j.getInt("out_channels", OUT_CHANNELS_DEFAULT),
                        j.getStrings("down_block_types", List.of(DOWN_ENCODER_BLOCK)),
                        j.getStrings("up_block_types", List.of(UP_DECODER_BLOCK)),
                        channels,
                        j.getInt("layers_per_block", LAYERS_PER_BLOCK_DEFAULT),
                        j.getString("act_fn", ACT_FN_DEFAULT),
                        j.getInt("latent_channels", LATENT_CHANNELS_DEFAULT),
                        j.getInt("norm_num_groups", NORM_NUM_GROUPS_DEFAULT),
                        j.getInt("sample_size", SAMPLE_SIZE_DEFAULT),
                        j.getDouble("scaling_factor", SCALING_FACTOR_DEFAULT),
                        j.getDoubleOrNull("shift_factor", null),
                        j.getBool("force_upcast", true),
                        j.getBool("use_quant_conv", true),
                        j.getBool("use_post_quant_conv", true),
                        j.getBool("mid_block_add_attention", true),
                        j.extra());
        ConfigBounds.vae(j.source(), c);
        return c;
    }

    /**
     * How many image pixels one latent spans per side: {@code 2^(len(block_out_channels) - 1)} (8
     * for SD, but derived, never assumed), as diffusers' pipelines compute it.
     */
    public int vaeScaleFactor() {
        return 1 << (blockOutChannels.size() - 1);
    }
}
