package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code DownBlock2D} (models/unets/unet_2d_blocks.py): {@code resnets} without
 * attention, then an optional {@code downsamplers.0}.
 */
public final class DownBlock2D implements UNetDownBlock {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final Downsample2D downsampler;

    public DownBlock2D(
            Weights w,
            int numLayers,
            int inChannels,
            int outChannels,
            int tembChannels,
            boolean addDownsample,
            double resnetEps,
            int resnetGroups,
            double outputScaleFactor,
            int downsamplePadding) {
        for (int i = 0; i < numLayers; i++) {
            resnets.add(
                    new ResnetBlock2D(
                            w.prefix("resnets", i),
                            i == 0 ? inChannels : outChannels,
                            outChannels,
                            tembChannels,
                            resnetGroups,
                            resnetEps,
                            outputScaleFactor));
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

    // Port of diffusers unet_2d_blocks.DownBlock2D.forward
    @Override
    public NDList forward(NDArray x, NDArray temb, NDArray encoderHiddenStates) {
        NDList outputStates = new NDList();
        NDArray h = x;
        for (ResnetBlock2D resnet : resnets) {
            h = resnet.forward(h, temb);
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
