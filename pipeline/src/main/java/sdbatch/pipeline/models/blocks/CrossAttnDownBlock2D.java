package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code CrossAttnDownBlock2D} (models/unets/unet_2d_blocks.py): pairs of {@code
 * resnets} and {@code attentions} (Transformer2DModel), then an optional {@code downsamplers.0}.
 */
public final class CrossAttnDownBlock2D implements UNetDownBlock {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Transformer2DModel> attentions = new ArrayList<>();
    final Downsample2D downsampler;

    public CrossAttnDownBlock2D(
            Weights w,
            int numLayers,
            int transformerLayers,
            int inChannels,
            int outChannels,
            int tembChannels,
            boolean addDownsample,
            double resnetEps,
            int resnetGroups,
            int numHeads,
            int crossAttentionDim,
            double outputScaleFactor,
            int downsamplePadding,
            boolean useLinearProjection,
            boolean upcastAttention) {
        for (int i = 0; i < numLayers; i++) {
            int in = i == 0 ? inChannels : outChannels;
            resnets.add(
                    new ResnetBlock2D(
                            w.prefix("resnets", i),
                            in,
                            outChannels,
                            tembChannels,
                            resnetGroups,
                            resnetEps,
                            outputScaleFactor));
            attentions.add(
                    new Transformer2DModel(
                            w.prefix("attentions", i),
                            numHeads,
                            outChannels / numHeads,
                            outChannels,
                            transformerLayers,
                            crossAttentionDim,
                            resnetGroups,
                            useLinearProjection,
                            upcastAttention));
        }
        this.downsampler =
                addDownsample
                        ? new Downsample2D(
                                w.prefix("downsamplers", 0),
                                outChannels,
                                outChannels,
                                downsamplePadding)
                        : null;
    }

    // Port of diffusers unet_2d_blocks.CrossAttnDownBlock2D.forward
    @Override
    public NDList forward(NDArray x, NDArray temb, NDArray encoderHiddenStates) {
        NDList outputStates = new NDList();
        NDArray h = x;
        for (int i = 0; i < resnets.size(); i++) {
            h = resnets.get(i).forward(h, temb);
            h = attentions.get(i).forward(h, encoderHiddenStates);
            outputStates.add(h);
        }
        if (downsampler != null) {
            h = downsampler.forward(h);
            outputStates.add(h);
        }
        return outputStates;
    }

    @Override
    public boolean hasDownsampler() {
        return downsampler != null;
    }
}
