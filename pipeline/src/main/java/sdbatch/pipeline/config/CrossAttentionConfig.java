package sdbatch.pipeline.config;

import java.util.List;

/**
 * The config keys of the {@code Transformer2DModel}s in a UNet's cross-attention blocks, which
 * diffusers' {@code ControlNetModel} takes with the same names and defaults as {@code
 * UNet2DConditionModel} (both pass them on to {@code get_down_block} and the mid block). {@link
 * UNetConfig} and {@link ControlNetConfig} hold one each; {@link UNetDownConfig} answers its keys.
 *
 * @param crossAttentionDim {@code cross_attention_dim}: width of the text embeddings
 * @param transformerLayersPerBlock {@code transformer_layers_per_block}, per down block
 * @param attentionHeadDim {@code attention_head_dim} as written, per down block
 * @param numAttentionHeads {@code num_attention_heads} per down block, or null (then {@code
 *     attention_head_dim} gives the heads)
 * @param useLinearProjection {@code use_linear_projection}: transformer proj_in/out are linear
 *     layers rather than 1×1 convolutions
 * @param upcastAttention {@code upcast_attention}: attention scores and softmax in float32
 */
public record CrossAttentionConfig(
        int crossAttentionDim,
        List<Integer> transformerLayersPerBlock,
        List<Integer> attentionHeadDim,
        List<Integer> numAttentionHeads,
        boolean useLinearProjection,
        boolean upcastAttention) {

    public CrossAttentionConfig {
        transformerLayersPerBlock = List.copyOf(transformerLayersPerBlock);
        attentionHeadDim = List.copyOf(attentionHeadDim);
        numAttentionHeads = numAttentionHeads == null ? null : List.copyOf(numAttentionHeads);
    }

    /**
     * Reads the keys with {@code UNet2DConditionModel.__init__}'s defaults; the per-block ones (an
     * int or a list) expanded to {@code blocks} entries.
     */
    static CrossAttentionConfig read(DiffusersConfigJson j, int blocks) {
        return new CrossAttentionConfig(
                j.getInt("cross_attention_dim", UNetConfig.CROSS_ATTENTION_DIM_DEFAULT),
                j.getPerBlock(
                        "transformer_layers_per_block",
                        UNetConfig.TRANSFORMER_LAYERS_PER_BLOCK_DEFAULT,
                        blocks),
                j.getPerBlock("attention_head_dim", UNetConfig.ATTENTION_HEAD_DIM_DEFAULT, blocks),
                j.getPerBlock("num_attention_heads", null, blocks),
                j.getBool("use_linear_projection", false),
                j.getBool("upcast_attention", false));
    }
}
