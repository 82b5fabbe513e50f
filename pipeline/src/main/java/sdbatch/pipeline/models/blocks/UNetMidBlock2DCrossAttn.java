package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code UNetMidBlock2DCrossAttn} (models/unets/unet_2d_blocks.py): {@code resnets.0},
 * then pairs of {@code attentions.i} and {@code resnets.i+1}.
 */
public final class UNetMidBlock2DCrossAttn {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Transformer2DModel> attentions = new ArrayList<>();

    public UNetMidBlock2DCrossAttn(
            Weights w,
            int inChannels,
            int numLayers,
            ResnetBlock2D.Settings resnet,
            Transformer2DModel.Settings attention) {
        UNet2DBlocks.midLayers(
                w,
                numLayers,
                inChannels,
                resnet,
                i -> attention.build(w.prefix("attentions", i), inChannels),
                resnets,
                attentions);
    }

    // Port of diffusers unet_2d_blocks.UNetMidBlock2DCrossAttn.forward
    public NDArray forward(NDArray x, NDArray temb, NDArray encoderHiddenStates) {
        return InnerScope.keep(
                () ->
                        UNet2DBlocks.mid(
                                x,
                                temb,
                                resnets,
                                attentions,
                                (attention, h) -> attention.forward(h, encoderHiddenStates)));
    }
}
