package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The configuration of diffusers' {@code UNet2DConditionModel}, read from {@code unet/config.json}.
 *
 * <p>Every field has diffusers' {@code UNet2DConditionModel.__init__} default and this record is
 * the only place those defaults live. Keys diffusers accepts as an int or a per-block list ({@code
 * attention_head_dim}, {@code num_attention_heads}, {@code layers_per_block}, {@code
 * transformer_layers_per_block}) are stored expanded to one entry per down block. Keys of features
 * sdbatch does not implement (class embeddings, {@code addition_embed_type} other than SDXL's
 * {@code text_time}, {@code time_cond_proj_dim}, ...) are accepted only at their default value; any
 * other value is a {@link ModelLoadException} naming the key, so an unsupported model fails at load
 * and never computes silently wrong images. Unknown keys are kept in {@link #extra()} and logged
 * once.
 *
 * <p>Note diffusers' naming quirk: {@code attention_head_dim} is in fact the number of heads of
 * each block unless {@code num_attention_heads} is given (diffusers issue #2011); {@link
 * #numHeads(int)} resolves it.
 *
 * @param sampleSize {@code sample_size}: latent height and width the model was trained at, or null
 * @param inChannels {@code in_channels} of {@code conv_in}
 * @param outChannels {@code out_channels} of {@code conv_out}
 * @param centerInputSample {@code center_input_sample}: map the input with {@code 2x - 1} first
 * @param flipSinToCos {@code flip_sin_to_cos}: the timestep embedding is {@code [cos, sin]}
 * @param freqShift {@code freq_shift}: the timestep embedding's {@code downscale_freq_shift}
 * @param downBlockTypes {@code down_block_types}: {@code CrossAttnDownBlock2D} or {@code
 *     DownBlock2D}
 * @param midBlockType {@code mid_block_type}: {@code UNetMidBlock2DCrossAttn} or null for none
 * @param upBlockTypes {@code up_block_types}: {@code CrossAttnUpBlock2D} or {@code UpBlock2D}
 * @param blockOutChannels {@code block_out_channels}, one per down block
 * @param layersPerBlock {@code layers_per_block}, per down block (up blocks have one more)
 * @param downsamplePadding {@code downsample_padding} of the down blocks' strided convolutions
 * @param midBlockScaleFactor {@code mid_block_scale_factor}: the mid block's output scale
 * @param actFn {@code act_fn}: only {@code silu}
 * @param normNumGroups {@code norm_num_groups} of every GroupNorm
 * @param normEps {@code norm_eps} of the resnets' and the output GroupNorms
 * @param crossAttention the keys of the cross-attention blocks' transformers ({@code
 *     cross_attention_dim}, {@code attention_head_dim}, ...)
 * @param resnetOutScaleFactor {@code resnet_out_scale_factor}: resnet outputs are divided by it
 * @param convInKernel {@code conv_in_kernel}
 * @param convOutKernel {@code conv_out_kernel}
 * @param additionEmbedType {@code addition_embed_type}: null, or {@code text_time} (SDXL: the
 *     pooled text embedding and the {@code add_time_ids} embedded and added to the time embedding)
 * @param additionTimeEmbedDim {@code addition_time_embed_dim}: the sinusoidal width of each of the
 *     time ids ({@code text_time} only), or null
 * @param projectionClassEmbeddingsInputDim {@code projection_class_embeddings_input_dim}: the input
 *     width of {@code add_embedding} (pooled text width + 6 × {@code addition_time_embed_dim} for
 *     {@code text_time}), or null
 * @param extra every key of the file this record does not model, unmodifiable
 */
public record UNetConfig(
        Integer sampleSize,
        int inChannels,
        int outChannels,
        boolean centerInputSample,
        boolean flipSinToCos,
        int freqShift,
        List<String> downBlockTypes,
        String midBlockType,
        List<String> upBlockTypes,
        List<Integer> blockOutChannels,
        List<Integer> layersPerBlock,
        int downsamplePadding,
        double midBlockScaleFactor,
        String actFn,
        int normNumGroups,
        double normEps,
        CrossAttentionConfig crossAttention,
        double resnetOutScaleFactor,
        int convInKernel,
        int convOutKernel,
        String additionEmbedType,
        Integer additionTimeEmbedDim,
        Integer projectionClassEmbeddingsInputDim,
        Map<String, JsonElement> extra)
        implements UNetDownConfig {

    private static final ConfigReader<UNetConfig> READER =
            ConfigReader.diffusersModel(UNetConfig.class, UNetConfig::from);

    /** Down block types this implementation builds. */
    public static final Set<String> DOWN_BLOCK_TYPES =
            Set.of("CrossAttnDownBlock2D", "DownBlock2D");

    /** Up block types this implementation builds. */
    public static final Set<String> UP_BLOCK_TYPES = Set.of("CrossAttnUpBlock2D", "UpBlock2D");

    /** The mid block type this implementation builds (null means no mid block). */
    public static final String MID_BLOCK_CROSS_ATTN = "UNetMidBlock2DCrossAttn";

    /** SDXL's {@code addition_embed_type}: pooled text embedding and micro-conditioning ids. */
    public static final String ADDITION_TEXT_TIME = "text_time";

    // diffusers UNet2DConditionModel.__init__ defaults (models/unets/unet_2d_condition.py).
    public static final int IN_CHANNELS_DEFAULT = 4;
    public static final int OUT_CHANNELS_DEFAULT = 4;
    public static final boolean FLIP_SIN_TO_COS_DEFAULT = true;
    public static final int FREQ_SHIFT_DEFAULT = 0;
    public static final List<String> DOWN_BLOCK_TYPES_DEFAULT =
            List.of(
                    "CrossAttnDownBlock2D",
                    "CrossAttnDownBlock2D",
                    "CrossAttnDownBlock2D",
                    "DownBlock2D");
    public static final List<String> UP_BLOCK_TYPES_DEFAULT =
            List.of("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D");
    public static final List<Integer> BLOCK_OUT_CHANNELS_DEFAULT = List.of(320, 640, 1280, 1280);
    public static final int LAYERS_PER_BLOCK_DEFAULT = 2;
    public static final int DOWNSAMPLE_PADDING_DEFAULT = 1;
    public static final double MID_BLOCK_SCALE_FACTOR_DEFAULT = 1.0;
    public static final String ACT_FN_DEFAULT = "silu";
    public static final int NORM_NUM_GROUPS_DEFAULT = 32;
    public static final double NORM_EPS_DEFAULT = 1e-5;
    public static final int CROSS_ATTENTION_DIM_DEFAULT = 1280;
    public static final int TRANSFORMER_LAYERS_PER_BLOCK_DEFAULT = 1;
    public static final int ATTENTION_HEAD_DIM_DEFAULT = 8;
    public static final double RESNET_OUT_SCALE_FACTOR_DEFAULT = 1.0;
    public static final int CONV_KERNEL_DEFAULT = 3;

    public UNetConfig {
        DownPathRules.check(
                "unet",
                downBlockTypes,
                blockOutChannels,
                layersPerBlock,
                crossAttention,
                normNumGroups);
        int n = blockOutChannels.size();
        check(upBlockTypes.size() == n, "up_block_types", upBlockTypes, "needs " + n);
        for (String t : upBlockTypes) {
            check(UP_BLOCK_TYPES.contains(t), "up_block_types", t, "not in " + UP_BLOCK_TYPES);
        }
        check(
                midBlockType == null || MID_BLOCK_CROSS_ATTN.equals(midBlockType),
                "mid_block_type",
                midBlockType,
                "is not supported (supported: " + MID_BLOCK_CROSS_ATTN + " or null)");
        check("silu".equals(actFn), "act_fn", actFn, "is not supported (supported: silu)");
        check(convInKernel % 2 == 1, "conv_in_kernel", convInKernel, "must be odd");
        check(convOutKernel % 2 == 1, "conv_out_kernel", convOutKernel, "must be odd");
        check(
                additionEmbedType == null || ADDITION_TEXT_TIME.equals(additionEmbedType),
                "addition_embed_type",
                additionEmbedType,
                "is not supported (supported: " + ADDITION_TEXT_TIME + " or null)");
        if (ADDITION_TEXT_TIME.equals(additionEmbedType)) {
            // diffusers' text_time branch needs both widths (its __init__ would fail without them).
            check(
                    additionTimeEmbedDim != null && additionTimeEmbedDim > 0,
                    "addition_time_embed_dim",
                    additionTimeEmbedDim,
                    "must be a positive integer with addition_embed_type text_time");
            check(
                    projectionClassEmbeddingsInputDim != null
                            && projectionClassEmbeddingsInputDim > 6 * additionTimeEmbedDim,
                    "projection_class_embeddings_input_dim",
                    projectionClassEmbeddingsInputDim,
                    "must exceed 6 × addition_time_embed_dim ("
                            + 6 * additionTimeEmbedDim
                            + "): it is the pooled text width plus the six embedded time ids");
        }
        downBlockTypes = List.copyOf(downBlockTypes);
        upBlockTypes = List.copyOf(upBlockTypes);
        blockOutChannels = List.copyOf(blockOutChannels);
        layersPerBlock = List.copyOf(layersPerBlock);
        extra = extra == null ? Map.of() : extra;
    }

    private static void check(boolean ok, String key, Object value, String rule) {
        DiffusersConfigJson.check("unet", ok, key, value, rule);
    }

    /** Reads {@code <unetDir>/config.json}. */
    public static UNetConfig load(Path unetDir) {
        return READER.load(unetDir);
    }

    /** Parses the text of a {@code config.json}; {@code source} names it in errors. */
    public static UNetConfig parse(String source, String json) {
        return READER.parse(source, json);
    }

    // Port of diffusers unet_2d_condition.UNet2DConditionModel.__init__ (argument handling only).
    private static UNetConfig from(DiffusersConfigJson j) {
        j.ignore("dropout");
        // Features sdbatch does not implement: accepted at their default only.
        j.requireDefault("encoder_hid_dim", null, "an encoder_hid_proj");
        j.requireDefault("encoder_hid_dim_type", null, "an encoder_hid_proj");
        j.requireDefault("class_embed_type", null, "class embeddings");
        j.requireDefault("num_class_embeds", null, "class embeddings");
        j.requireDefault("class_embeddings_concat", false, "class embeddings");
        // addition_embed_type_num_heads is read only by the text / text_image types.
        j.ignore("addition_embed_type_num_heads");
        j.requireDefault("time_embedding_type", "positional", "another timestep embedding");
        j.requireDefault("time_embedding_dim", null, "another timestep embedding width");
        j.requireDefault("time_embedding_act_fn", null, "a timestep embedding activation");
        j.requireDefault("timestep_post_act", null, "a timestep post-activation");
        j.requireDefault("time_cond_proj_dim", null, "timestep conditioning (LCM)");
        j.requireDefault("only_cross_attention", false, "cross-attention-only blocks");
        j.requireDefault("mid_block_only_cross_attention", null, "cross-attention-only blocks");
        j.requireDefault("dual_cross_attention", false, "dual cross-attention");
        j.requireDefault("attention_type", "default", "gated attention");
        j.requireDefault("cross_attention_norm", null, "cross-attention norms");
        j.requireDefault("resnet_time_scale_shift", "default", "scale-shift resnets");
        j.requireDefault("resnet_skip_time_act", false, "resnet_skip_time_act");
        j.requireDefault("reverse_transformer_layers_per_block", null, "asymmetric transformers");

        List<Integer> channels = j.getInts("block_out_channels", BLOCK_OUT_CHANNELS_DEFAULT);
        int n = channels.size();
        List<String> down = j.getStrings("down_block_types", DOWN_BLOCK_TYPES_DEFAULT);
        List<String> up = j.getStrings("up_block_types", UP_BLOCK_TYPES_DEFAULT);
        UNetConfig c =
                new UNetConfig(
                        j.getIntOrNull("sample_size", null),
                        j.getInt("in_channels", IN_CHANNELS_DEFAULT),
                        j.getInt("out_channels", OUT_CHANNELS_DEFAULT),
                        j.getBool("center_input_sample", false),
                        j.getBool("flip_sin_to_cos", FLIP_SIN_TO_COS_DEFAULT),
                        j.getInt("freq_shift", FREQ_SHIFT_DEFAULT),
                        down,
                        j.getString("mid_block_type", MID_BLOCK_CROSS_ATTN),
                        up,
                        channels,
                        j.getPerBlock("layers_per_block", LAYERS_PER_BLOCK_DEFAULT, n),
                        j.getInt("downsample_padding", DOWNSAMPLE_PADDING_DEFAULT),
                        j.getDouble("mid_block_scale_factor", MID_BLOCK_SCALE_FACTOR_DEFAULT),
                        j.getString("act_fn", ACT_FN_DEFAULT),
                        j.getInt("norm_num_groups", NORM_NUM_GROUPS_DEFAULT),
                        j.getDouble("norm_eps", NORM_EPS_DEFAULT),
                        CrossAttentionConfig.read(j, n),
                        j.getDouble("resnet_out_scale_factor", RESNET_OUT_SCALE_FACTOR_DEFAULT),
                        j.getInt("conv_in_kernel", CONV_KERNEL_DEFAULT),
                        j.getInt("conv_out_kernel", CONV_KERNEL_DEFAULT),
                        j.getString("addition_embed_type", null),
                        j.getIntOrNull("addition_time_embed_dim", null),
                        j.getIntOrNull("projection_class_embeddings_input_dim", null),
                        j.extra());
        ConfigBounds.unet(j.source(), c);
        return c;
    }

    /** Whether the UNet takes SDXL's {@code added_cond_kwargs} ({@code text_time}). */
    public boolean hasTextTimeEmbedding() {
        return ADDITION_TEXT_TIME.equals(additionEmbedType);
    }

    /**
     * The width of the pooled text embedding a {@code text_time} UNet takes: {@code
     * projection_class_embeddings_input_dim - 6 * addition_time_embed_dim}.
     */
    public int addedTextEmbedDim() {
        return projectionClassEmbeddingsInputDim - 6 * additionTimeEmbedDim;
    }

    /** The number of down (and up) blocks. */
    public int numBlocks() {
        return blockOutChannels.size();
    }
}
