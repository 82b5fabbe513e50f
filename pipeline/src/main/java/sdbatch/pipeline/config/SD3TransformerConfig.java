package sdbatch.pipeline.config;

import com.google.gson.JsonElement;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The configuration of diffusers' {@code SD3Transformer2DModel} (SD3's and SD3.5's {@code
 * transformer}), read from its {@code config.json}. Every field has diffusers' {@code __init__}
 * default and this record is the only place those defaults live.
 *
 * @param sampleSize {@code sample_size}: the latent size trained at (default image size / VAE
 *     factor)
 * @param patchSize {@code patch_size}
 * @param inChannels {@code in_channels}: latent channels
 * @param numLayers {@code num_layers}: joint transformer blocks
 * @param attentionHeadDim {@code attention_head_dim}
 * @param numAttentionHeads {@code num_attention_heads}
 * @param jointAttentionDim {@code joint_attention_dim}: the prompt embeddings' width (T5's)
 * @param captionProjectionDim {@code caption_projection_dim}: {@code context_embedder}'s width
 * @param pooledProjectionDim {@code pooled_projection_dim}: the pooled text embedding's width
 * @param outChannels {@code out_channels}
 * @param posEmbedMaxSize {@code pos_embed_max_size}: the side of the position table, in patches
 * @param dualAttentionLayers {@code dual_attention_layers}: blocks with a second self-attention
 *     (SD3.5 medium)
 * @param qkNorm {@code qk_norm}: null or {@code rms_norm}
 * @param extra every key of the file this record does not model
 */
public record SD3TransformerConfig(
        int sampleSize,
        int patchSize,
        int inChannels,
        int numLayers,
        int attentionHeadDim,
        int numAttentionHeads,
        int jointAttentionDim,
        int captionProjectionDim,
        int pooledProjectionDim,
        int outChannels,
        int posEmbedMaxSize,
        List<Integer> dualAttentionLayers,
        String qkNorm,
        Map<String, JsonElement> extra) {

    private static final ConfigReader<SD3TransformerConfig> READER =
            ConfigReader.diffusersModel(SD3TransformerConfig.class, SD3TransformerConfig::from);

    public SD3TransformerConfig {
        DiffusersConfigJson.check(
                "transformer",
                captionProjectionDim == numAttentionHeads * attentionHeadDim,
                "caption_projection_dim",
                captionProjectionDim,
                "must equal num_attention_heads × attention_head_dim "
                        + numAttentionHeads * attentionHeadDim
                        + " (the context joins the image tokens in one attention)");
        for (int i : dualAttentionLayers) {
            DiffusersConfigJson.check(
                    "transformer",
                    i >= 0 && i < numLayers,
                    "dual_attention_layers",
                    dualAttentionLayers,
                    "must be block indices in [0, " + numLayers + ")");
        }
        DiffusersConfigJson.check(
                "transformer",
                qkNorm == null || qkNorm.equals("rms_norm"),
                "qk_norm",
                qkNorm,
                "is not supported (supported: null, rms_norm)");
        dualAttentionLayers = List.copyOf(dualAttentionLayers);
        extra = extra == null ? Map.of() : extra;
    }

    /** {@code num_attention_heads * attention_head_dim}: the blocks' width. */
    public int innerDim() {
        return numAttentionHeads * attentionHeadDim;
    }

    /** Reads {@code <dir>/config.json}. */
    public static SD3TransformerConfig load(Path dir) {
        return READER.load(dir);
    }

    /** Parses the text of a {@code config.json}; {@code source} names it in errors. */
    public static SD3TransformerConfig parse(String source, String json) {
        return READER.parse(source, json);
    }

    private static SD3TransformerConfig from(DiffusersConfigJson j) {
        int inChannels = j.getInt("in_channels", 16);
        // out_channels None means in_channels (diffusers' __init__; diffusers writes every key,
        // so an absent one is read the same way)
        Integer outChannels = j.getIntOrNull("out_channels", null);
        SD3TransformerConfig c =
                new SD3TransformerConfig(
                        j.getInt("sample_size", 128),
                        j.getInt("patch_size", 2),
                        inChannels,
                        j.getInt("num_layers", 18),
                        j.getInt("attention_head_dim", 64),
                        j.getInt("num_attention_heads", 18),
                        j.getInt("joint_attention_dim", 4096),
                        j.getInt("caption_projection_dim", 1152),
                        j.getInt("pooled_projection_dim", 2048),
                        outChannels == null ? inChannels : outChannels,
                        j.getInt("pos_embed_max_size", 96),
                        j.getInts("dual_attention_layers", List.of()),
                        j.getString("qk_norm", null),
                        j.extra());
        ConfigBounds.sd3Transformer(j.source(), c);
        return c;
    }
}
