package sdbatch.pipeline.config;

import java.util.List;

/**
 * The rules a UNet's and a ControlNet's config share for the input half they both build ({@link
 * UNetDownConfig}): one entry per block in every per-block list, block types this implementation
 * builds, channels that the GroupNorms and the attention heads divide. Each breach is a {@link
 * sdbatch.pipeline.weights.ModelLoadException} naming the component, the key and the rule.
 */
final class DownPathRules {
    private DownPathRules() {}

    /**
     * Checks the raw values a config record is about to hold (its compact constructor calls this
     * before the fields exist).
     *
     * @param component {@code unet} or {@code controlnet}, for messages
     */
    static void check(
            String component,
            List<String> downBlockTypes,
            List<Integer> blockOutChannels,
            List<Integer> layersPerBlock,
            CrossAttentionConfig crossAttention,
            int normNumGroups) {
        List<Integer> attentionHeadDim = crossAttention.attentionHeadDim();
        List<Integer> numAttentionHeads = crossAttention.numAttentionHeads();
        int n = blockOutChannels.size();
        rule(component, n > 0, "block_out_channels", blockOutChannels, "is empty");
        perBlock(component, "down_block_types", downBlockTypes, n);
        perBlock(component, "layers_per_block", layersPerBlock, n);
        perBlock(
                component,
                "transformer_layers_per_block",
                crossAttention.transformerLayersPerBlock(),
                n);
        perBlock(component, "attention_head_dim", attentionHeadDim, n);
        if (numAttentionHeads != null) {
            perBlock(component, "num_attention_heads", numAttentionHeads, n);
        }
        for (String t : downBlockTypes) {
            rule(
                    component,
                    UNetConfig.DOWN_BLOCK_TYPES.contains(t),
                    "down_block_types",
                    t,
                    "not in " + UNetConfig.DOWN_BLOCK_TYPES);
        }
        rule(component, normNumGroups > 0, "norm_num_groups", normNumGroups, "must be positive");
        for (int c : blockOutChannels) {
            rule(
                    component,
                    c > 0 && c % normNumGroups == 0,
                    "block_out_channels",
                    blockOutChannels,
                    "must be positive multiples of norm_num_groups " + normNumGroups);
        }
        for (int i = 0; i < n; i++) {
            int heads =
                    numAttentionHeads != null ? numAttentionHeads.get(i) : attentionHeadDim.get(i);
            rule(
                    component,
                    heads > 0 && blockOutChannels.get(i) % heads == 0,
                    "attention heads of block " + i,
                    heads,
                    "must divide block_out_channels[" + i + "] = " + blockOutChannels.get(i));
        }
    }

    private static void perBlock(String component, String key, List<?> values, int n) {
        rule(component, values.size() == n, key, values, "needs " + n);
    }

    private static void rule(String component, boolean ok, String key, Object value, String rule) {
        DiffusersConfigJson.check(component, ok, key, value, rule);
    }
}
