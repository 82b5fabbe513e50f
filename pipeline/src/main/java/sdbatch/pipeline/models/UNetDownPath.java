package sdbatch.pipeline.models;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.UNetDownConfig;
import sdbatch.pipeline.models.blocks.CrossAttnDownBlock2D;
import sdbatch.pipeline.models.blocks.DownBlock2D;
import sdbatch.pipeline.models.blocks.ResnetBlock2D;
import sdbatch.pipeline.models.blocks.TimestepEmbedding;
import sdbatch.pipeline.models.blocks.Timesteps;
import sdbatch.pipeline.models.blocks.Transformer2DModel;
import sdbatch.pipeline.models.blocks.UNetDownBlock;
import sdbatch.pipeline.models.blocks.UNetMidBlock2DCrossAttn;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * The input half of a UNet, which diffusers' {@code ControlNetModel} copies from {@code
 * UNet2DConditionModel} ({@code from_unet}): {@code conv_in}, {@code time_proj} and {@code
 * time_embedding}, {@code down_blocks} and {@code mid_block}, built from one {@link UNetDownConfig}
 * and run the same way. Both models keep these as their own fields (a field path is its state-dict
 * key); this class builds and runs them, so the two stay one piece of code.
 */
final class UNetDownPath {
    private UNetDownPath() {}

    /** {@code conv_in}: latents to {@code block_out_channels[0]}. */
    static Conv2d convIn(Weights w, UNetDownConfig c) {
        return Conv2d.same(
                w.prefix("conv_in"), c.inChannels(), c.blockOutChannels().get(0), c.convInKernel());
    }

    /** {@code time_proj}: the sinusoidal embedding, {@code block_out_channels[0]} wide. */
    static Timesteps timeProj(UNetDownConfig c) {
        return new Timesteps(c.blockOutChannels().get(0), c.flipSinToCos(), c.freqShift());
    }

    /** {@code time_embedding}: to {@link UNetDownConfig#timeEmbedDim()}. */
    static TimestepEmbedding timeEmbedding(Weights w, UNetDownConfig c) {
        return new TimestepEmbedding(
                w.prefix("time_embedding"), c.blockOutChannels().get(0), c.timeEmbedDim());
    }

    /** The settings every resnet of the down and up blocks shares. */
    static ResnetBlock2D.Settings resnet(UNetDownConfig c) {
        return new ResnetBlock2D.Settings(
                c.timeEmbedDim(), c.normNumGroups(), c.normEps(), c.resnetOutScaleFactor());
    }

    /** The settings of the Transformer2DModels at down level {@code level} (and its up block). */
    static Transformer2DModel.Settings attention(UNetDownConfig c, int level) {
        return new Transformer2DModel.Settings(
                c.numHeads(level),
                c.transformerLayersPerBlock().get(level),
                c.crossAttentionDim(),
                c.normNumGroups(),
                c.useLinearProjection(),
                c.upcastAttention());
    }

    /** {@code down_blocks.i}, as diffusers' {@code get_down_block} builds them. */
    // Port of the down-block loop of diffusers UNet2DConditionModel.__init__ (and
    // ControlNetModel.__init__)
    static List<UNetDownBlock> downBlocks(Weights w, UNetDownConfig c) {
        List<Integer> ch = c.blockOutChannels();
        int n = ch.size();
        ResnetBlock2D.Settings resnet = resnet(c);
        List<UNetDownBlock> blocks = new ArrayList<>(n);
        int out = ch.get(0);
        for (int i = 0; i < n; i++) {
            int in = out;
            out = ch.get(i);
            boolean isFinal = i == n - 1;
            Weights bw = w.prefix("down_blocks", i);
            UNetDownBlock.Args args =
                    new UNetDownBlock.Args(
                            c.layersPerBlock().get(i),
                            in,
                            out,
                            !isFinal,
                            c.downsamplePadding(),
                            resnet);
            blocks.add(
                    "CrossAttnDownBlock2D".equals(c.downBlockTypes().get(i))
                            ? new CrossAttnDownBlock2D(bw, args, attention(c, i))
                            : new DownBlock2D(bw, args));
        }
        return blocks;
    }

    /** {@code mid_block}, or null where {@code mid_block_type} is null. */
    static UNetMidBlock2DCrossAttn midBlock(Weights w, UNetDownConfig c) {
        if (c.midBlockType() == null) {
            return null;
        }
        List<Integer> ch = c.blockOutChannels();
        int last = ch.size() - 1;
        return new UNetMidBlock2DCrossAttn(
                w.prefix("mid_block"),
                ch.get(last),
                1,
                new ResnetBlock2D.Settings(
                        c.timeEmbedDim(), c.normNumGroups(), c.normEps(), c.midBlockScaleFactor()),
                attention(c, last));
    }

    /**
     * Step 1 of the forward pass: the timestep(s) (a scalar, [1] or [batch]) broadcast over the
     * batch, embedded sinusoidally in float32, cast to the model's dtype (diffusers' "timesteps
     * does not contain any weights and will always return f32 tensors") and through {@code
     * time_embedding}.
     */
    static NDArray embedTimesteps(
            NDArray timestep,
            long batch,
            Timesteps timeProj,
            TimestepEmbedding timeEmbedding,
            Device device,
            DataType dtype) {
        NDArray t = timestep.toDevice(device, false);
        if (t.getShape().dimension() == 0) {
            t = t.reshape(1);
        }
        if (t.getShape().get(0) != batch) {
            t = t.broadcast(batch);
        }
        NDArray tEmb = timeProj.forward(t).toType(dtype, false);
        return timeEmbedding.forward(tEmb);
    }

    /**
     * Step 3 of the forward pass: runs the down blocks from {@code x} (the output of {@code
     * conv_in}), adding {@code x} and every block's output states to {@code resSamples} in order
     * (diffusers' {@code down_block_res_samples}).
     *
     * @return the last block's output
     */
    static NDArray down(
            List<UNetDownBlock> blocks,
            NDArray x,
            NDArray emb,
            NDArray encoderHiddenStates,
            List<NDArray> resSamples) {
        resSamples.add(x);
        NDArray h = x;
        for (UNetDownBlock block : blocks) {
            NDArray in = h;
            NDList states = InnerScope.keepAll(() -> block.forward(in, emb, encoderHiddenStates));
            resSamples.addAll(states);
            h = states.get(states.size() - 1);
        }
        return h;
    }

    /**
     * The checks a UNet and a ControlNet share: {@code sample} [B, in_channels, H, W] and text
     * states [B, L, cross_attention_dim].
     */
    static void checkSampleAndText(Shape s, Shape e, int inChannels, int crossAttentionDim) {
        if (s.dimension() != 4 || s.get(1) != inChannels) {
            throw new IllegalArgumentException(
                    "sample must be [B, " + inChannels + ", H, W], got " + s);
        }
        if (e.dimension() != 3 || e.get(0) != s.get(0) || e.get(2) != crossAttentionDim) {
            throw new IllegalArgumentException(
                    "encoderHiddenStates must be ["
                            + s.get(0)
                            + ", L, "
                            + crossAttentionDim
                            + "] for sample "
                            + s
                            + ", got "
                            + e);
        }
    }
}
