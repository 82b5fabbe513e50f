package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.models.layers.Activations;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code ControlNetConditioningEmbedding} (models/controlnets/controlnet.py): the small
 * convolution stack that brings the control picture (pixels, [0, 1]) down to the latent size and
 * {@code conv_in}'s width: {@code conv_in}, then per step a 3×3 convolution and a strided one
 * ({@code blocks.2i}, {@code blocks.2i+1}), each followed by SiLU, then {@code conv_out}.
 */
public final class ControlNetConditioningEmbedding {
    final Conv2d convIn;
    final List<Conv2d> blocks = new ArrayList<>();
    final Conv2d convOut;

    /**
     * @param embeddingChannels {@code conditioning_embedding_channels}: the width of the output
     *     ({@code block_out_channels[0]} of the ControlNet)
     * @param conditioningChannels channels of the control picture
     * @param blockOutChannels {@code conditioning_embedding_out_channels}
     */
    // Port of diffusers controlnet.ControlNetConditioningEmbedding.__init__
    public ControlNetConditioningEmbedding(
            Weights w,
            int embeddingChannels,
            int conditioningChannels,
            List<Integer> blockOutChannels) {
        this.convIn =
                Conv2d.same(w.prefix("conv_in"), conditioningChannels, blockOutChannels.get(0), 3);
        for (int i = 0; i < blockOutChannels.size() - 1; i++) {
            int in = blockOutChannels.get(i);
            int out = blockOutChannels.get(i + 1);
            blocks.add(Conv2d.same(w.prefix("blocks", 2 * i), in, in, 3));
            blocks.add(new Conv2d(w.prefix("blocks", 2 * i + 1), in, out, 3, 2, 1));
        }
        this.convOut =
                Conv2d.same(
                        w.prefix("conv_out"),
                        blockOutChannels.get(blockOutChannels.size() - 1),
                        embeddingChannels,
                        3);
    }

    /** How many times the embedding halves the picture's height and width. */
    public int downsamplings() {
        return blocks.size() / 2;
    }

    // Port of diffusers controlnet.ControlNetConditioningEmbedding.forward
    public NDArray forward(NDArray conditioning) {
        return InnerScope.keep(
                () -> {
                    NDArray embedding = Activations.silu(convIn.forward(conditioning));
                    for (Conv2d block : blocks) {
                        embedding = Activations.silu(block.forward(embedding));
                    }
                    return convOut.forward(embedding);
                });
    }
}
