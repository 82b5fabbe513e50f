package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code UpBlock2D} (models/unets/unet_2d_blocks.py): each layer concatenates a skip
 * connection to its input and runs a resnet; an optional {@code upsamplers.0} follows.
 */
public final class UpBlock2D implements UNetUpBlock {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final Upsample2D upsampler;

    public UpBlock2D(
            Weights w,
            int numLayers,
            int inChannels,
            int outChannels,
            int prevOutputChannel,
            int tembChannels,
            boolean addUpsample,
            double resnetEps,
            int resnetGroups,
            double outputScaleFactor) {
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
        }
        this.upsampler =
                addUpsample
                        ? new Upsample2D(w.prefix("upsamplers", 0), outChannels, outChannels)
                        : null;
    }

    // Port of diffusers unet_2d_blocks.UpBlock2D.forward
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
