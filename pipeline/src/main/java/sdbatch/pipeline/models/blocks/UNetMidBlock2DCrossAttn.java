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
            int tembChannels,
            int numLayers,
            int transformerLayers,
            double resnetEps,
            int resnetGroups,
            int numHeads,
            int crossAttentionDim,
            double outputScaleFactor,
            boolean useLinearProjection,
            boolean upcastAttention) {
        resnets.add(
                new ResnetBlock2D(
                        w.prefix("resnets", 0),
                        inChannels,
                        inChannels,
                        tembChannels,
                        resnetGroups,
                        resnetEps,
                        outputScaleFactor));
        for (int i = 0; i < numLayers; i++) {
            attentions.add(
                    new Transformer2DModel(
                            w.prefix("attentions", i),
                            numHeads,
                            inChannels / numHeads,
                            inChannels,
                            transformerLayers,
                            crossAttentionDim,
                            resnetGroups,
                            useLinearProjection,
                            upcastAttention));
            resnets.add(
                    new ResnetBlock2D(
                            w.prefix("resnets", i + 1),
                            inChannels,
                            inChannels,
                            tembChannels,
                            resnetGroups,
                            resnetEps,
                            outputScaleFactor));
        }
    }

    // Port of diffusers unet_2d_blocks.UNetMidBlock2DCrossAttn.forward
    public NDArray forward(NDArray x, NDArray temb, NDArray encoderHiddenStates) {
        return InnerScope.keep(
                () -> {
                    NDArray h = resnets.get(0).forward(x, temb);
                    for (int i = 0; i < attentions.size(); i++) {
                        h = attentions.get(i).forward(h, encoderHiddenStates);
                        h = resnets.get(i + 1).forward(h, temb);
                    }
                    return h;
                });
    }
}
