package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.weights.Weights;

/**
 * An up block of the UNet: {@link CrossAttnUpBlock2D} or {@link UpBlock2D}. diffusers' two classes
 * differ only in whether each of the {@code resnets} is followed by a Transformer2DModel ({@code
 * attentions}); building and running them is said once, here.
 */
public abstract sealed class UNetUpBlock permits CrossAttnUpBlock2D, UpBlock2D {
    final List<ResnetBlock2D> resnets = new ArrayList<>();
    final List<Transformer2DModel> attentions = new ArrayList<>();
    final Upsample2D upsampler;

    /**
     * What diffusers' {@code get_up_block} passes to either up block type: {@code num_layers}
     * resnets to {@code out_channels}, resnet i taking the previous layer's output ({@code
     * prev_output_channel} for the first) concatenated with its skip connection ({@code
     * in_channels} for the last, whose skip comes from the level below), then an upsampler when
     * {@code add_upsample}.
     */
    public record Args(
            int numLayers,
            int inChannels,
            int outChannels,
            int prevOutputChannel,
            boolean addUpsample,
            ResnetBlock2D.Settings resnet) {}

    /**
     * @param attention the settings of the Transformer2DModel after each resnet, or null for none
     */
    UNetUpBlock(Weights w, Args a, Transformer2DModel.Settings attention) {
        int numLayers = a.numLayers();
        UNet2DBlocks.layers(
                w,
                numLayers,
                i ->
                        (i == 0 ? a.prevOutputChannel() : a.outChannels())
                                + (i == numLayers - 1 ? a.inChannels() : a.outChannels()),
                a.outChannels(),
                a.resnet(),
                attention,
                resnets,
                attentions);
        this.upsampler = UNet2DBlocks.upsampler(w, a.addUpsample(), a.outChannels());
    }

    /**
     * Runs the block: each resnet on its input concatenated with the next skip connection, then its
     * attention where the block has them, then the upsampler.
     *
     * @param resSamples the skip connections for this block, in down order; consumed from the end
     * @param upsampleSize target [H, W] of the upsampler, or null for ×2
     */
    // Port of diffusers unet_2d_blocks.CrossAttnUpBlock2D.forward and UpBlock2D.forward
    public NDArray forward(
            NDArray x,
            List<NDArray> resSamples,
            NDArray temb,
            NDArray encoderHiddenStates,
            long[] upsampleSize) {
        NDArray h = x;
        for (int i = 0; i < resnets.size(); i++) {
            NDArray res = resSamples.get(resSamples.size() - 1 - i);
            h = resnets.get(i).forwardWithSkip(h, res, temb);
            if (!attentions.isEmpty()) {
                h = attentions.get(i).forward(h, encoderHiddenStates);
            }
        }
        if (upsampler != null) {
            h = upsampler.forward(h, upsampleSize);
        }
        return h;
    }

    /** The number of resnets, which is the number of skip connections consumed. */
    public int numResnets() {
        return resnets.size();
    }
}
