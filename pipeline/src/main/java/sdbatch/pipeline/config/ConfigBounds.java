package sdbatch.pipeline.config;

import java.util.List;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The range every size-like key of a model {@code config.json} must lie in, checked as soon as the
 * file is parsed, before any model code sees it.
 *
 * <p>Why: a model is built from its config, so a hand-edited, corrupt or hostile {@code
 * config.json} ({@code "block_out_channels": [1000000, ...]}) would otherwise ask for tensors of
 * terabytes; the checkpoint comparison ({@code StateDictWeights.checkShapes}) catches a mismatch
 * without allocating, and these bounds add a clear message naming the file, the key and the allowed
 * range. Each range is generous: roughly ten times the largest value in any released SD 1.x, 2.x,
 * SDXL or SD3 checkpoint (noted per key), so no real model comes near it. A key with a list value
 * is checked entry by entry and for its length.
 */
public final class ConfigBounds {
    private ConfigBounds() {}

    /** An inclusive range for one key, with the largest real value it was sized from. */
    public record Range(String key, long min, long max, String largestReal) {}

    // UNet2DConditionModel (diffusers unet/config.json). Largest real values: SDXL unless noted.
    static final Range UNET_SAMPLE_SIZE = new Range("sample_size", 1, 1024, "128 (SDXL)");
    static final Range UNET_IN_CHANNELS = new Range("in_channels", 1, 64, "9 (inpainting)");
    static final Range UNET_OUT_CHANNELS = new Range("out_channels", 1, 64, "4");
    static final Range UNET_BLOCKS = new Range("block_out_channels (length)", 1, 8, "4 (SD 1.x)");
    static final Range UNET_BLOCK_OUT_CHANNELS =
            new Range("block_out_channels", 1, 16384, "1280 (SD 1.x, SDXL)");
    static final Range UNET_LAYERS_PER_BLOCK = new Range("layers_per_block", 1, 32, "2");
    static final Range UNET_TRANSFORMER_LAYERS =
            new Range("transformer_layers_per_block", 1, 128, "10 (SDXL)");
    static final Range UNET_ATTENTION_HEAD_DIM =
            new Range("attention_head_dim", 1, 4096, "20 (SD 2.x, SDXL)");
    static final Range UNET_NUM_ATTENTION_HEADS =
            new Range("num_attention_heads", 1, 4096, "20 (SD 2.x)");
    static final Range UNET_CROSS_ATTENTION_DIM =
            new Range("cross_attention_dim", 1, 32768, "2048 (SDXL)");
    static final Range UNET_NORM_NUM_GROUPS = new Range("norm_num_groups", 1, 4096, "32");
    static final Range UNET_CONV_KERNEL = new Range("conv_in_kernel / conv_out_kernel", 1, 31, "3");
    static final Range UNET_DOWNSAMPLE_PADDING = new Range("downsample_padding", 0, 32, "1");
    static final Range UNET_FREQ_SHIFT = new Range("freq_shift", 0, 1024, "0");

    // ControlNetModel (diffusers ControlNet config.json): the UNet keys above, and its
    // conditioning embedding. Largest real values: SD 1.5 and SDXL ControlNets.
    static final Range CONTROLNET_CONDITIONING_CHANNELS =
            new Range("conditioning_channels", 1, 64, "3");
    static final Range CONTROLNET_EMBEDDING_BLOCKS =
            new Range("conditioning_embedding_out_channels (length)", 1, 8, "4");
    static final Range CONTROLNET_EMBEDDING_CHANNELS =
            new Range("conditioning_embedding_out_channels", 1, 16384, "256");

    // AutoencoderKL (diffusers vae/config.json). Largest real values: SD3 / SDXL.
    static final Range VAE_IN_OUT_CHANNELS = new Range("in_channels / out_channels", 1, 64, "3");
    static final Range VAE_LATENT_CHANNELS = new Range("latent_channels", 1, 256, "16 (SD3)");
    static final Range VAE_BLOCKS = new Range("block_out_channels (length)", 1, 8, "4");
    static final Range VAE_BLOCK_OUT_CHANNELS = new Range("block_out_channels", 1, 8192, "512");
    static final Range VAE_LAYERS_PER_BLOCK = new Range("layers_per_block", 1, 32, "2");
    static final Range VAE_NORM_NUM_GROUPS = new Range("norm_num_groups", 1, 4096, "32");
    static final Range VAE_SAMPLE_SIZE = new Range("sample_size", 1, 16384, "1024 (SDXL)");

    // CLIPTextModel (transformers text_encoder/config.json). Largest real values: OpenCLIP bigG
    // (SDXL text_encoder_2, SD3 text_encoder_2).
    static final Range CLIP_VOCAB_SIZE = new Range("vocab_size", 1, 1_048_576, "49408");
    static final Range CLIP_HIDDEN_SIZE = new Range("hidden_size", 1, 16384, "1280");
    static final Range CLIP_INTERMEDIATE_SIZE = new Range("intermediate_size", 1, 65536, "5120");
    static final Range CLIP_PROJECTION_DIM = new Range("projection_dim", 1, 16384, "1280");
    static final Range CLIP_NUM_HIDDEN_LAYERS = new Range("num_hidden_layers", 1, 256, "32");
    static final Range CLIP_NUM_ATTENTION_HEADS = new Range("num_attention_heads", 1, 1024, "20");
    static final Range CLIP_MAX_POSITION_EMBEDDINGS =
            new Range("max_position_embeddings", 1, 4096, "77 (248 for Long-CLIP)");

    // SD3Transformer2DModel (diffusers transformer/config.json). Largest real values: SD3.5 large
    // (38 blocks of 38 heads × 64) unless noted.
    static final Range SD3_SAMPLE_SIZE = new Range("sample_size", 1, 4096, "128");
    static final Range SD3_PATCH_SIZE = new Range("patch_size", 1, 64, "2");
    static final Range SD3_IN_OUT_CHANNELS = new Range("in_channels / out_channels", 1, 256, "16");
    static final Range SD3_NUM_LAYERS = new Range("num_layers", 1, 512, "38");
    static final Range SD3_ATTENTION_HEAD_DIM = new Range("attention_head_dim", 1, 4096, "64");
    static final Range SD3_NUM_ATTENTION_HEADS = new Range("num_attention_heads", 1, 1024, "38");
    static final Range SD3_JOINT_ATTENTION_DIM =
            new Range("joint_attention_dim", 1, 65536, "4096 (T5-XXL's width)");
    static final Range SD3_CAPTION_PROJECTION_DIM =
            new Range("caption_projection_dim", 1, 65536, "2432");
    static final Range SD3_POOLED_PROJECTION_DIM =
            new Range("pooled_projection_dim", 1, 65536, "2048 (both CLIPs' projections)");
    static final Range SD3_POS_EMBED_MAX_SIZE =
            new Range("pos_embed_max_size", 1, 4096, "384 (SD3.5 medium)");

    // T5EncoderModel (transformers text_encoder_3/config.json). Largest real values: T5 v1.1 XXL,
    // SD3's encoder.
    static final Range T5_VOCAB_SIZE = new Range("vocab_size", 1, 1_048_576, "32128");
    static final Range T5_D_MODEL = new Range("d_model", 1, 65536, "4096");
    static final Range T5_D_KV = new Range("d_kv", 1, 4096, "64");
    static final Range T5_D_FF = new Range("d_ff", 1, 262144, "10240");
    static final Range T5_NUM_LAYERS = new Range("num_layers", 1, 256, "24");
    static final Range T5_NUM_HEADS = new Range("num_heads", 1, 1024, "64");
    // At least two buckets: transformers' bucketing halves the count for the two directions.
    static final Range T5_RELATIVE_ATTENTION_NUM_BUCKETS =
            new Range("relative_attention_num_buckets", 2, 4096, "32");
    static final Range T5_RELATIVE_ATTENTION_MAX_DISTANCE =
            new Range("relative_attention_max_distance", 1, 1_048_576, "128");

    /**
     * Checks a parsed UNet config.
     *
     * @param source the file, named in the error
     * @throws ModelLoadException naming the file, the key, the value and the allowed range
     */
    public static void unet(String source, UNetConfig c) {
        if (c.sampleSize() != null) {
            check(source, UNET_SAMPLE_SIZE, c.sampleSize());
        }
        check(source, UNET_OUT_CHANNELS, c.outChannels());
        check(source, UNET_CONV_KERNEL, c.convOutKernel());
        checkFinite(source, "resnet_out_scale_factor", c.resnetOutScaleFactor(), false);
        downPath(source, c);
    }

    /**
     * Checks a parsed ControlNet config: its UNet input half as {@link #unet} does, and its
     * conditioning embedding.
     */
    public static void controlNet(String source, ControlNetConfig c) {
        downPath(source, c);
        check(source, CONTROLNET_CONDITIONING_CHANNELS, c.conditioningChannels());
        checkEach(
                source,
                CONTROLNET_EMBEDDING_BLOCKS,
                CONTROLNET_EMBEDDING_CHANNELS,
                c.conditioningEmbeddingOutChannels());
    }

    /** The keys of a UNet's input half, which a ControlNet shares. */
    private static void downPath(String source, UNetDownConfig c) {
        check(source, UNET_IN_CHANNELS, c.inChannels());
        checkEach(source, UNET_BLOCKS, UNET_BLOCK_OUT_CHANNELS, c.blockOutChannels());
        checkEach(source, null, UNET_LAYERS_PER_BLOCK, c.layersPerBlock());
        checkEach(source, null, UNET_TRANSFORMER_LAYERS, c.transformerLayersPerBlock());
        checkEach(source, null, UNET_ATTENTION_HEAD_DIM, c.attentionHeadDim());
        if (c.numAttentionHeads() != null) {
            checkEach(source, null, UNET_NUM_ATTENTION_HEADS, c.numAttentionHeads());
        }
        check(source, UNET_CROSS_ATTENTION_DIM, c.crossAttentionDim());
        check(source, UNET_NORM_NUM_GROUPS, c.normNumGroups());
        check(source, UNET_CONV_KERNEL, c.convInKernel());
        check(source, UNET_DOWNSAMPLE_PADDING, c.downsamplePadding());
        check(source, UNET_FREQ_SHIFT, c.freqShift());
        checkFinite(source, "norm_eps", c.normEps(), true);
        checkFinite(source, "mid_block_scale_factor", c.midBlockScaleFactor(), false);
    }

    /** Checks a parsed VAE config, as {@link #unet}. */
    public static void vae(String source, VaeConfig c) {
        check(source, VAE_IN_OUT_CHANNELS, c.inChannels());
        check(source, VAE_IN_OUT_CHANNELS, c.outChannels());
        check(source, VAE_LATENT_CHANNELS, c.latentChannels());
        checkEach(source, VAE_BLOCKS, VAE_BLOCK_OUT_CHANNELS, c.blockOutChannels());
        check(source, VAE_LAYERS_PER_BLOCK, c.layersPerBlock());
        check(source, VAE_NORM_NUM_GROUPS, c.normNumGroups());
        check(source, VAE_SAMPLE_SIZE, c.sampleSize());
        checkFinite(source, "scaling_factor", c.scalingFactor(), true);
        if (c.shiftFactor() != null) {
            checkFinite(source, "shift_factor", c.shiftFactor(), false);
        }
    }

    /** Checks a parsed CLIP text encoder config, as {@link #unet}. */
    public static void clipText(String source, CLIPTextConfig c) {
        check(source, CLIP_VOCAB_SIZE, c.vocabSize());
        check(source, CLIP_HIDDEN_SIZE, c.hiddenSize());
        check(source, CLIP_INTERMEDIATE_SIZE, c.intermediateSize());
        check(source, CLIP_PROJECTION_DIM, c.projectionDim());
        check(source, CLIP_NUM_HIDDEN_LAYERS, c.numHiddenLayers());
        check(source, CLIP_NUM_ATTENTION_HEADS, c.numAttentionHeads());
        check(source, CLIP_MAX_POSITION_EMBEDDINGS, c.maxPositionEmbeddings());
        checkFinite(source, "layer_norm_eps", c.layerNormEps(), true);
    }

    /** Checks a parsed SD3 transformer config, as {@link #unet}. */
    public static void sd3Transformer(String source, SD3TransformerConfig c) {
        check(source, SD3_SAMPLE_SIZE, c.sampleSize());
        check(source, SD3_PATCH_SIZE, c.patchSize());
        check(source, SD3_IN_OUT_CHANNELS, c.inChannels());
        check(source, SD3_IN_OUT_CHANNELS, c.outChannels());
        check(source, SD3_NUM_LAYERS, c.numLayers());
        check(source, SD3_ATTENTION_HEAD_DIM, c.attentionHeadDim());
        check(source, SD3_NUM_ATTENTION_HEADS, c.numAttentionHeads());
        check(source, SD3_JOINT_ATTENTION_DIM, c.jointAttentionDim());
        check(source, SD3_CAPTION_PROJECTION_DIM, c.captionProjectionDim());
        check(source, SD3_POOLED_PROJECTION_DIM, c.pooledProjectionDim());
        check(source, SD3_POS_EMBED_MAX_SIZE, c.posEmbedMaxSize());
    }

    /** Checks a parsed T5 encoder config, as {@link #unet}. */
    public static void t5(String source, T5Config c) {
        check(source, T5_VOCAB_SIZE, c.vocabSize());
        check(source, T5_D_MODEL, c.dModel());
        check(source, T5_D_KV, c.dKv());
        check(source, T5_D_FF, c.dFf());
        check(source, T5_NUM_LAYERS, c.numLayers());
        check(source, T5_NUM_HEADS, c.numHeads());
        check(source, T5_RELATIVE_ATTENTION_NUM_BUCKETS, c.relativeAttentionNumBuckets());
        check(source, T5_RELATIVE_ATTENTION_MAX_DISTANCE, c.relativeAttentionMaxDistance());
    }

    private static void checkEach(String source, Range length, Range each, List<Integer> values) {
        if (length != null && (values.size() < length.min() || values.size() > length.max())) {
            throw outside(source, length, values.size() + " entries " + values);
        }
        for (int v : values) {
            if (v < each.min() || v > each.max()) {
                throw outside(source, each, values + " (entry " + v + ")");
            }
        }
    }

    private static void check(String source, Range r, long value) {
        if (value < r.min() || value > r.max()) {
            throw outside(source, r, Long.toString(value));
        }
    }

    private static ModelLoadException outside(String source, Range r, String value) {
        return new ModelLoadException(
                source
                        + ": \""
                        + r.key()
                        + "\" = "
                        + value
                        + " is outside the supported range "
                        + r.min()
                        + ".."
                        + r.max()
                        + " (largest in a released SD checkpoint: "
                        + r.largestReal()
                        + "); the config.json is corrupt or not a Stable Diffusion model");
    }

    private static void checkFinite(String source, String key, double value, boolean positive) {
        if (!Double.isFinite(value) || (positive && value <= 0)) {
            throw new ModelLoadException(
                    source
                            + ": \""
                            + key
                            + "\" = "
                            + value
                            + " must be a finite"
                            + (positive ? " positive" : "")
                            + " number");
        }
    }
}
