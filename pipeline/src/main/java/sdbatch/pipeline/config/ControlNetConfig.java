package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The configuration of diffusers' {@code ControlNetModel} (models/controlnets/controlnet.py), read
 * from a ControlNet folder's {@code config.json}: the UNet input half it copies ({@link
 * UNetDownConfig}, with {@code ControlNetModel.__init__}'s defaults, which are the UNet's) and the
 * conditioning embedding that turns the control picture into {@code conv_in}'s width.
 *
 * <p>As {@link UNetConfig}, keys of features sdbatch does not implement are accepted only at their
 * default: SDXL ControlNets' {@code addition_embed_type} {@code text_time}, class embeddings, an
 * {@code encoder_hid_proj}, and {@code global_pool_conditions} (which makes diffusers run guess
 * mode, left out here). Any other value is a {@link ModelLoadException} naming the key.
 *
 * @param inChannels {@code in_channels} of {@code conv_in} (the latent channels)
 * @param conditioningChannels {@code conditioning_channels}: channels of the control picture
 * @param flipSinToCos {@code flip_sin_to_cos} of the timestep embedding
 * @param freqShift {@code freq_shift} of the timestep embedding
 * @param downBlockTypes {@code down_block_types}
 * @param midBlockType {@code mid_block_type}: only {@code UNetMidBlock2DCrossAttn}
 * @param blockOutChannels {@code block_out_channels}
 * @param layersPerBlock {@code layers_per_block}, per down block
 * @param downsamplePadding {@code downsample_padding}
 * @param midBlockScaleFactor {@code mid_block_scale_factor}
 * @param normNumGroups {@code norm_num_groups}
 * @param normEps {@code norm_eps}
 * @param crossAttention the keys of the cross-attention blocks' transformers, as the UNet's
 * @param bgrConditioning {@code controlnet_conditioning_channel_order} is {@code bgr}: the control
 *     picture's channels are flipped before the embedding
 * @param conditioningEmbeddingOutChannels {@code conditioning_embedding_out_channels}: the
 *     conditioning embedding's widths, each step after the first halving the size
 * @param extra every key of the file this record does not model, unmodifiable
 */
public record ControlNetConfig(
        int inChannels,
        int conditioningChannels,
        boolean flipSinToCos,
        int freqShift,
        List<String> downBlockTypes,
        String midBlockType,
        List<Integer> blockOutChannels,
        List<Integer> layersPerBlock,
        int downsamplePadding,
        double midBlockScaleFactor,
        int normNumGroups,
        double normEps,
        CrossAttentionConfig crossAttention,
        boolean bgrConditioning,
        List<Integer> conditioningEmbeddingOutChannels,
        Map<String, JsonElement> extra)
        implements UNetDownConfig {

    private static final ConfigReader<ControlNetConfig> READER =
            ConfigReader.diffusersModel(ControlNetConfig.class, ControlNetConfig::from);

    /** The file name inside a ControlNet folder. */
    public static final String FILE_NAME = ConfigReader.FILE_NAME;

    /** diffusers' {@code ControlNetModel.__init__} default of {@code conditioning_channels}. */
    public static final int CONDITIONING_CHANNELS_DEFAULT = 3;

    /** ... and of {@code conditioning_embedding_out_channels}. */
    public static final List<Integer> CONDITIONING_EMBEDDING_OUT_CHANNELS_DEFAULT =
            List.of(16, 32, 96, 256);

    public ControlNetConfig {
        DownPathRules.check(
                "controlnet",
                downBlockTypes,
                blockOutChannels,
                layersPerBlock,
                crossAttention,
                normNumGroups);
        // diffusers' ControlNetModel always has a mid block; UNetMidBlock2D (no attention) is not
        // built here.
        check(
                UNetConfig.MID_BLOCK_CROSS_ATTN.equals(midBlockType),
                "mid_block_type",
                midBlockType,
                "is not supported (supported: " + UNetConfig.MID_BLOCK_CROSS_ATTN + ")");
        check(
                !conditioningEmbeddingOutChannels.isEmpty(),
                "conditioning_embedding_out_channels",
                conditioningEmbeddingOutChannels,
                "is empty");
        downBlockTypes = List.copyOf(downBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        layersPerBlock = List.copyOf(layersPerBlock);
        conditioningEmbeddingOutChannels = List.copyOf(conditioningEmbeddingOutChannels);
        extra = extra == null ? Map.of() : extra;
    }

    private static void check(boolean ok, String key, Object value, String rule) {
        DiffusersConfigJson.check("controlnet", ok, key, value, rule);
    }

    /** Reads {@code <controlNetDir>/config.json}. */
    public static ControlNetConfig load(Path controlNetDir) {
        return READER.load(controlNetDir);
    }

    /** Parses the text of a {@code config.json}; {@code source} names it in errors. */
    public static ControlNetConfig parse(String source, String json) {
        return READER.parse(source, json);
    }

    // Port of diffusers controlnet.ControlNetModel.__init__ (argument handling only).
    private static ControlNetConfig from(DiffusersConfigJson j) {
        j.requireDefault("encoder_hid_dim", null, "an encoder_hid_proj");
        j.requireDefault("encoder_hid_dim_type", null, "an encoder_hid_proj");
        j.requireDefault("class_embed_type", null, "class embeddings");
        j.requireDefault("num_class_embeds", null, "class embeddings");
        j.requireDefault("projection_class_embeddings_input_dim", null, "class embeddings");
        j.requireDefault("addition_embed_type", null, "added conditioning (SDXL ControlNet)");
        j.requireDefault("addition_time_embed_dim", null, "added conditioning (SDXL ControlNet)");
        j.requireDefault("addition_embed_type_num_heads", 64, "added conditioning");
        j.requireDefault("only_cross_attention", false, "cross-attention-only blocks");
        j.requireDefault("resnet_time_scale_shift", "default", "scale-shift resnets");
        j.requireDefault("act_fn", "silu", "another activation");
        // diffusers turns guess mode on for these (shuffle ControlNets); guess mode is left out.
        j.requireDefault("global_pool_conditions", false, "guess mode (pooled conditions)");

        List<Integer> channels =
                j.getInts("block_out_channels", UNetConfig.BLOCK_OUT_CHANNELS_DEFAULT);
        int n = channels.size();
        String order = j.getString("controlnet_conditioning_channel_order", "rgb");
        if (!"rgb".equals(order) && !"bgr".equals(order)) {
            throw j.bad("controlnet_conditioning_channel_order", order, "is not rgb or bgr");
        }
        List<Integer> embedding =
                j.getInts(
                        "conditioning_embedding_out_channels",
                        CONDITIONING_EMBEDDING_OUT_CHANNELS_DEFAULT);
        if (embedding == null) {
            throw j.bad("conditioning_embedding_out_channels", null, "must be given");
        }
        ControlNetConfig c =
                new ControlNetConfig(
                        j.getInt("in_channels", UNetConfig.IN_CHANNELS_DEFAULT),
                        j.getInt("conditioning_channels", CONDITIONING_CHANNELS_DEFAULT),
                        j.getBool("flip_sin_to_cos", UNetConfig.FLIP_SIN_TO_COS_DEFAULT),
                        j.getInt("freq_shift", UNetConfig.FREQ_SHIFT_DEFAULT),
                        j.getStrings("down_block_types", UNetConfig.DOWN_BLOCK_TYPES_DEFAULT),
                        j.getString("mid_block_type", UNetConfig.MID_BLOCK_CROSS_ATTN),
                        channels,
                        j.getPerBlock("layers_per_block", UNetConfig.LAYERS_PER_BLOCK_DEFAULT, n),
                        j.getInt("downsample_padding", UNetConfig.DOWNSAMPLE_PADDING_DEFAULT),
                        j.getDouble(
                                "mid_block_scale_factor",
                                UNetConfig.MID_BLOCK_SCALE_FACTOR_DEFAULT),
                        j.getInt("norm_num_groups", UNetConfig.NORM_NUM_GROUPS_DEFAULT),
                        j.getDouble("norm_eps", UNetConfig.NORM_EPS_DEFAULT),
                        CrossAttentionConfig.read(j, n),
                        "bgr".equals(order),
                        embedding,
                        j.extra());
        ConfigBounds.controlNet(j.source(), c);
        return c;
    }

    /** A ControlNet has no {@code conv_in_kernel} key: its {@code conv_in} is always 3×3. */
    @Override
    public int convInKernel() {
        return 3;
    }

    /** diffusers' ControlNet builds its down blocks without {@code resnet_out_scale_factor}. */
    @Override
    public double resnetOutScaleFactor() {
        return 1.0;
    }
}
