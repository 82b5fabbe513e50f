package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
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
     * @param attentionHeadDim width of one head (the VAE passes {@code block_out_channels[-1]}: one
     *     head)
     */
    public UNetMidBlock2D(
            Weights w,
            int inChannels,
            int numLayers,
            double resnetEps,
            int resnetGroups,
            int attentionHeadDim,
            boolean addAttention,
            double outputScaleFactor) {
        ResnetBlock2D.Settings resnet =
                new ResnetBlock2D.Settings(0, resnetGroups, resnetEps, outputScaleFactor);
        UNet2DBlocks.midLayers(
                w,
                numLayers,
                inChannels,
                resnet,
                i ->
                        addAttention
                                ? new Attention(
                                        // diffusers builds these with _from_deprecated_attn_block:
                                        // pre-0.14 folders name their projections query/key/value/
                                        // proj_attn.
                                        DeprecatedAttentionNames.of(w.prefix("attentions", i)),
                                        inChannels,
                                        inChannels,
                                        inChannels / attentionHeadDim,
                                        attentionHeadDim,
                                        true,
                                        true,
                                        resnetGroups,
                                        resnetEps,
                                        true,
                                        outputScaleFactor)
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
