package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.DeprecatedAttentionNames;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code UNetMidBlock2D} as the VAE uses it (models/unets/unet_2d_blocks.py): {@code
 * resnets.0}, then pairs of a single-head spatial {@code attentions.i} (with its own group norm and
 * residual connection; absent when {@code mid_block_add_attention} is false) and {@code
 * resnets.i+1}. No timestep embedding. The attentions' weights are also found under their
 * pre-diffusers-0.14 names ({@link DeprecatedAttentionNames}).
 */
public final class UNetMidBlock2D {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Attention> attentions = new ArrayList<>();

    /**
     * The block the VAE's {@link Encoder} and {@link Decoder} make: over {@code
     * block_out_channels[-1]} channels, one layer, one attention head over all of them, eps 1e-6,
     * output scale 1, attention unless {@code mid_block_add_attention} is false.
     */
    public UNetMidBlock2D(Weights w, VaeConfig c) {
        int channels = c.blockOutChannels().get(c.blockOutChannels().size() - 1);
        int groups = c.normNumGroups();
        ResnetBlock2D.Settings resnet = new ResnetBlock2D.Settings(0, groups, Encoder.EPS, 1.0);
        UNet2DBlocks.midLayers(
                w,
                1,
                channels,
                resnet,
                i ->
                        c.midBlockAddAttention()
                                ? new Attention(
                                        // diffusers builds these with _from_deprecated_attn_block:
                                        // pre-0.14 folders name their projections query/key/value/
                                        // proj_attn.
                                        DeprecatedAttentionNames.of(w.prefix("attentions", i)),
                                        channels,
                                        channels,
                                        1,
                                        channels,
                                        true,
                                        true,
                                        groups,
                                        Encoder.EPS,
                                        true,
                                        1.0)
                                : null,
                resnets,
                attentions);
    }

    // Port of diffusers unet_2d_blocks.UNetMidBlock2D.forward
    public NDArray forward(NDArray x) {
        return InnerScope.keep(
                () ->
                        UNet2DBlocks.mid(
                                x,
                                null,
                                resnets,
                                attentions,
                                (attention, h) ->
                                        attention != null ? attention.forward(h, null) : h));
    }
}
