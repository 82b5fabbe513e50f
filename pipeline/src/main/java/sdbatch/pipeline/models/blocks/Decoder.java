package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.GroupNorm;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' VAE {@code Decoder} (models/autoencoders/vae.py) with group norms: {@code conv_in},
 * {@code mid_block}, {@code up_blocks} (UpDecoderBlock2D, one more layer than the encoder's
 * blocks), GroupNorm, SiLU, {@code conv_out} to image channels.
 */
public final class Decoder {
    final Conv2d convIn;
    final UNetMidBlock2D midBlock;
    final List<UpDecoderBlock2D> upBlocks = new ArrayList<>();
    final GroupNorm convNormOut;
    final Conv2d convOut;

    public Decoder(Weights w, VaeConfig c) {
        List<Integer> ch = c.blockOutChannels();
        int n = ch.size();
        int groups = c.normNumGroups();
        int last = ch.get(n - 1);
        this.convIn = Conv2d.same(w.prefix("conv_in"), c.latentChannels(), last, 3);
        this.midBlock = new UNetMidBlock2D(w.prefix("mid_block"), c);
        int out = last;
        for (int i = 0; i < n; i++) {
            int prev = out;
            out = ch.get(n - 1 - i);
            boolean isFinal = i == n - 1;
            upBlocks.add(new UpDecoderBlock2D(w.prefix("up_blocks", i), c, prev, out, !isFinal));
        }
        this.convNormOut = new GroupNorm(w.prefix("conv_norm_out"), groups, ch.get(0), Encoder.EPS);
        this.convOut = Conv2d.same(w.prefix("conv_out"), ch.get(0), c.outChannels(), 3);
    }

    // Port of diffusers vae.Decoder.forward
    public NDArray forward(NDArray z) {
        return InnerScope.keep(
                () -> {
                    // Each activation is freed once the next is computed (InnerScope.consume):
                    // at 1024² the last levels' are 0.5-1 GB each.
                    NDArray h = convIn.forward(z);
                    // middle
                    h = InnerScope.consume(h, midBlock::forward);
                    // up
                    for (UpDecoderBlock2D block : upBlocks) {
                        h = block.forwardFreeingInput(h);
                    }
                    // post-process
                    return InnerScope.consume(
                            h, a -> ResnetBlock2D.normSiluConv(convNormOut, convOut, a));
                });
    }
}
