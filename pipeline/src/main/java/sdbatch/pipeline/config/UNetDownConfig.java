package sdbatch.pipeline.config;

import java.util.List;

/**
 * The config keys that build a UNet's input half, which diffusers' {@code ControlNetModel} copies
 * from {@code UNet2DConditionModel} ({@code ControlNetModel.from_unet}): {@code conv_in}, the
 * timestep embedding, {@code down_blocks} and {@code mid_block}. {@link UNetConfig} and {@link
 * ControlNetConfig} both answer them with the same names, so the blocks are built and run by one
 * piece of code ({@code sdbatch.pipeline.models.UNetDownPath}) for both models.
 */
public interface UNetDownConfig {
    /** {@code in_channels} of {@code conv_in}. */
    int inChannels();

    /** {@code conv_in_kernel} (3 for a ControlNet, which has no such key). */
    int convInKernel();

    /** {@code flip_sin_to_cos} of the timestep embedding. */
    boolean flipSinToCos();

    /** {@code freq_shift}: the timestep embedding's {@code downscale_freq_shift}. */
    int freqShift();

    /** {@code down_block_types}: {@code CrossAttnDownBlock2D} or {@code DownBlock2D}. */
    List<String> downBlockTypes();

    /** {@code mid_block_type}: {@code UNetMidBlock2DCrossAttn}, or null for no mid block. */
    String midBlockType();

    /** {@code block_out_channels}, one per down block. */
    List<Integer> blockOutChannels();

    /** {@code layers_per_block}, per down block. */
    List<Integer> layersPerBlock();

    /** {@code downsample_padding} of the down blocks' strided convolutions. */
    int downsamplePadding();

    /** {@code mid_block_scale_factor}: the mid block's resnet output scale. */
    double midBlockScaleFactor();

    /** {@code resnet_out_scale_factor} of the down blocks' resnets (1 for a ControlNet). */
    double resnetOutScaleFactor();

    /** {@code norm_num_groups} of every GroupNorm. */
    int normNumGroups();

    /** {@code norm_eps} of the resnets' GroupNorms. */
    double normEps();

    /** The keys of the cross-attention blocks' transformers. */
    CrossAttentionConfig crossAttention();

    /** {@code cross_attention_dim}: width of the text embeddings. */
    default int crossAttentionDim() {
        return crossAttention().crossAttentionDim();
    }

    /** {@code transformer_layers_per_block}, per down block (the mid block takes the last). */
    default List<Integer> transformerLayersPerBlock() {
        return crossAttention().transformerLayersPerBlock();
    }

    /** {@code attention_head_dim} as written, per down block. */
    default List<Integer> attentionHeadDim() {
        return crossAttention().attentionHeadDim();
    }

    /** {@code num_attention_heads} per down block, or null. */
    default List<Integer> numAttentionHeads() {
        return crossAttention().numAttentionHeads();
    }

    /** {@code use_linear_projection} of the Transformer2DModels. */
    default boolean useLinearProjection() {
        return crossAttention().useLinearProjection();
    }

    /** {@code upcast_attention} of the Transformer2DModels. */
    default boolean upcastAttention() {
        return crossAttention().upcastAttention();
    }

    /**
     * Attention heads of down block {@code i}: {@code num_attention_heads[i]} if given, else {@code
     * attention_head_dim[i]} (diffusers' {@code num_attention_heads or attention_head_dim}, issue
     * #2011).
     */
    default int numHeads(int i) {
        return numAttentionHeads() != null ? numAttentionHeads().get(i) : attentionHeadDim().get(i);
    }

    /** Width of the timestep embedding: {@code block_out_channels[0] * 4}. */
    default int timeEmbedDim() {
        return blockOutChannels().get(0) * 4;
    }
}
