package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code CrossAttnUpBlock2D} (models/unets/unet_2d_blocks.py): each layer concatenates a
 * skip connection to its input, then runs a resnet and a Transformer2DModel; an optional {@code
 * upsamplers.0} follows.
 */
public final class CrossAttnUpBlock2D implements UNetUpBlock {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Transformer2DModel> attentions = new ArrayList<>();
    final Upsample2D upsampler;

    public CrossAttnUpBlock2D(
            Weights w,
            int numLayers,
            int transformerLayers,
            int inChannels,
            int outChannels,
            int prevOutputChannel,
            int tembChannels,
            boolean addUpsample,
            double resnetEps,
            int resnetGroups,
            int numHeads,
            int crossAttentionDim,
            double outputScaleFactor,
            boolean useLinearProjection,
            boolean upcastAttention) {
        for (int i = 0; i < numLayers; i++) {
            int resSkipChannels = i == numLayers - 1 ? inChannels : outChannels;
            int resnetIn = i == 0 ? prevOutputChannel : outChannels;
            resnets.add(
                    new ResnetBlock2D(
                            w.prefix("resnets", i),
                            resnetIn + resSkipChannels,
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
        this.upsampler =
                addUpsample
                        ? new Upsample2D(w.prefix("upsamplers", 0), outChannels, outChannels)
                        : null;
    }

    // Port of diffusers unet_2d_blocks.CrossAttnUpBlock2D.forward
    @Override
    public NDArray forward(
            NDArray x,
            List<NDArray> resSamples,
            NDArray temb,
            NDArray encoderHiddenStates,
            long[] upsampleSize) {
        NDArray h = x;
        for (int i = 0; i < resnets.size(); i++) {
            NDArray res = resSamples.get(resSamples.size() - 1 - i);
            ResnetBlock2D resnet = resnets.get(i);
            h = resnet.forwardWithSkip(h, res, temb);
            h = attentions.get(i).forward(h, encoderHiddenStates);
        }
        if (upsampler != null) {
            h = upsampler.forward(h, upsampleSize);
        }
        return h;
    }

    @Override
    public int numResnets() {
        return resnets.size();
    }
}
