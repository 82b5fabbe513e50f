package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.weights.Weights;

/**
 * A down block of the UNet: {@link CrossAttnDownBlock2D} or {@link DownBlock2D}. diffusers' two
 * classes differ only in whether each of the {@code resnets} is followed by a Transformer2DModel
 * ({@code attentions}); building and running them is said once, here.
 */
public abstract sealed class UNetDownBlock permits CrossAttnDownBlock2D, DownBlock2D {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Transformer2DModel> attentions = new ArrayList<>();
    final Downsample2D downsampler;

    /**
     * What diffusers' {@code get_down_block} passes to either down block type: {@code num_layers}
     * resnets from {@code in_channels} (the first) or {@code out_channels} (the others) to {@code
     * out_channels}, then a downsampler with {@code downsample_padding} when {@code
     * add_downsample}.
     */
    public record Args(
            int numLayers,
            int inChannels,
            int outChannels,
            boolean addDownsample,
            int downsamplePadding,
            ResnetBlock2D.Settings resnet) {}

    /**
     * @param attention the settings of the Transformer2DModel after each resnet, or null for none
     */
    UNetDownBlock(Weights w, Args a, Transformer2DModel.Settings attention) {
        UNet2DBlocks.layers(
                w,
                a.numLayers(),
                i -> i == 0 ? a.inChannels() : a.outChannels(),
                a.outChannels(),
                a.resnet(),
                attention,
                resnets,
                attentions);
        this.downsampler =
                UNet2DBlocks.downsampler(
                        w, a.addDownsample(), a.outChannels(), a.downsamplePadding());
    }

    /**
     * Runs the block: each resnet, then its attention where the block has them.
     *
     * @param encoderHiddenStates the text embeddings (ignored by blocks without attention)
     * @return the output states for the skip connections, in order (every layer's, then the
     *     downsampler's); the last is the block's output
     */
    // Port of diffusers unet_2d_blocks.CrossAttnDownBlock2D.forward and DownBlock2D.forward
    public NDList forward(NDArray x, NDArray temb, NDArray encoderHiddenStates) {
        NDList outputStates = new NDList();
        NDArray h = x;
        for (int i = 0; i < resnets.size(); i++) {
            h = resnets.get(i).forward(h, temb);
            if (!attentions.isEmpty()) {
                h = attentions.get(i).forward(h, encoderHiddenStates);
            }
            outputStates.add(h);
        }
        if (downsampler != null) {
            h = downsampler.forward(h);
            outputStates.add(h);
        }
        return outputStates;
    }

    /** Whether the block ends with a downsampler (all but the last block). */
    public boolean hasDownsampler() {
        return downsampler != null;
    }
}
