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
 * diffusers' VAE {@code Encoder} (models/autoencoders/vae.py) with {@code double_z=True}: {@code
 * conv_in}, {@code down_blocks} (DownEncoderBlock2D, zero-padded stride-2 downsampling), {@code
 * mid_block}, GroupNorm, SiLU, {@code conv_out} to twice the latent channels (mean and log
 * variance).
 */
public final class Encoder {
    /** The epsilon diffusers hard-codes for every VAE norm. */
    public static final double EPS = 1e-6;

    final Conv2d convIn;
    final List<DownEncoderBlock2D> downBlocks = new ArrayList<>();
    final UNetMidBlock2D midBlock;
    final GroupNorm convNormOut;
    final Conv2d convOut;

    public Encoder(Weights w, VaeConfig c) {
        List<Integer> ch = c.blockOutChannels();
        int groups = c.normNumGroups();
        this.convIn = Conv2d.same(w.prefix("conv_in"), c.inChannels(), ch.get(0), 3);
        int out = ch.get(0);
        for (int i = 0; i < ch.size(); i++) {
            int in = out;
            out = ch.get(i);
            boolean isFinal = i == ch.size() - 1;
            downBlocks.add(
                    new DownEncoderBlock2D(w.prefix("down_blocks", i), c, in, out, !isFinal));
        }
        int last = ch.get(ch.size() - 1);
        this.midBlock = new UNetMidBlock2D(w.prefix("mid_block"), c);
        this.convNormOut = new GroupNorm(w.prefix("conv_norm_out"), groups, last, EPS);
        this.convOut = Conv2d.same(w.prefix("conv_out"), last, 2 * c.latentChannels(), 3);
    }

    // Port of diffusers vae.Encoder.forward
    public NDArray forward(NDArray sample) {
        return InnerScope.keep(
                () -> {
                    // Each activation is freed once the next is computed, as in the decoder.
                    NDArray h = convIn.forward(sample);
                    // down
                    for (DownEncoderBlock2D block : downBlocks) {
                        h = InnerScope.consume(h, block::forward);
                    }
                    // middle
                    h = InnerScope.consume(h, midBlock::forward);
                    // post-process
                    h = InnerScope.consume(h, convNormOut::forwardSilu);
                    return InnerScope.consume(h, convOut::forward);
                });
    }
}
