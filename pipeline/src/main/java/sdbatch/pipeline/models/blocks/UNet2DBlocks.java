package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.IntFunction;
import java.util.function.IntUnaryOperator;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.weights.Weights;

/**
 * What diffusers' {@code unet_2d_blocks.py} does the same way in its down, up and mid blocks, said
 * once: building {@code resnets.i} (each followed by {@code attentions.i} in the cross-attention
 * blocks) from one {@link ResnetBlock2D.Settings} and one {@link Transformer2DModel.Settings}, the
 * VAE blocks' resnets without timestep embedding, a mid block's interleaved layers, the optional
 * {@code downsamplers.0} and {@code upsamplers.0}, and the forward passes. The block classes keep
 * diffusers' names and differ only in what they pass here.
 */
final class UNet2DBlocks {
    private UNet2DBlocks() {}

    /**
     * Builds {@code resnets.i} for i in [0, numLayers), resnet {@code i} taking {@code
     * inChannels(i)} channels to {@code outChannels}, each followed by {@code attentions.i} over
     * {@code outChannels} where {@code attention} is not null: interleaved as diffusers builds them
     * (the order a checkpoint's missing weights are listed in).
     */
    static void layers(
            Weights w,
            int numLayers,
            IntUnaryOperator inChannels,
            int outChannels,
            ResnetBlock2D.Settings resnet,
            Transformer2DModel.Settings attention,
            List<ResnetBlock2D> resnets,
            List<Transformer2DModel> attentions) {
        for (int i = 0; i < numLayers; i++) {
            resnets.add(
                    resnet.build(w.prefix("resnets", i), inChannels.applyAsInt(i), outChannels));
            if (attention != null) {
                attentions.add(attention.build(w.prefix("attentions", i), outChannels));
            }
        }
    }

    /**
     * The {@code resnets} of the VAE's {@code DownEncoderBlock2D} and {@code UpDecoderBlock2D}:
     * {@code resnets.i} for i in [0, numLayers), the first from {@code inChannels}, the others from
     * {@code outChannels}, all to {@code outChannels}, with no timestep embedding, output scale 1
     * (diffusers' defaults for these blocks), the VAE's {@code norm_num_groups} and its eps ({@link
     * Encoder#EPS}).
     */
    static List<ResnetBlock2D> vaeResnets(
            Weights w, VaeConfig c, int numLayers, int inChannels, int outChannels) {
        List<ResnetBlock2D> resnets = new ArrayList<>();
        layers(
                w,
                numLayers,
                i -> i == 0 ? inChannels : outChannels,
                outChannels,
                new ResnetBlock2D.Settings(0, c.normNumGroups(), Encoder.EPS, 1.0),
                null,
                resnets,
                List.of());
        return List.copyOf(resnets);
    }

    /**
     * Runs {@link #vaeResnets} in order, without timestep embedding; {@code freeInput}: x is freed
     * as soon as the first resnet has read it (a chain's activation nothing else reads: [1, 256,
     * 1024, 1024] at the VAE decoder's last level, 1 GB the later resnets need not keep).
     */
    // Port of the resnet loop of diffusers unet_2d_blocks.DownEncoderBlock2D.forward and
    // UpDecoderBlock2D.forward
    static NDArray vaeResnetsForward(List<ResnetBlock2D> resnets, NDArray x, boolean freeInput) {
        NDArray h = x;
        for (ResnetBlock2D resnet : resnets) {
            NDArray in = h;
            h = resnet.forward(in, null);
            // Each later input is ours to free once read; x only when the caller gives it up.
            if (in != x || freeInput) {
                in.close();
            }
        }
        return h;
    }

    /** {@code downsamplers.0}, a 3×3 stride-2 convolution keeping the channels, or null. */
    static Downsample2D downsampler(Weights w, boolean add, int channels, int padding) {
        return add
                ? new Downsample2D(w.prefix("downsamplers", 0), channels, channels, padding)
                : null;
    }

    /** {@code upsamplers.0}, ×2 then a 3×3 convolution keeping the channels, or null. */
    static Upsample2D upsampler(Weights w, boolean add, int channels) {
        return add ? new Upsample2D(w.prefix("upsamplers", 0), channels, channels) : null;
    }

    /**
     * A mid block's layers over {@code channels}: {@code resnets.0}, then for i in [0, numLayers)
     * {@code attentions.i} (made by {@code attention}; null where the block has none) and {@code
     * resnets.i+1}, in diffusers' order (the order a checkpoint's missing weights are listed in).
     */
    // Port of diffusers unet_2d_blocks.UNetMidBlock2D.__init__ and
    // UNetMidBlock2DCrossAttn.__init__ (the layers)
    static <A> void midLayers(
            Weights w,
            int numLayers,
            int channels,
            ResnetBlock2D.Settings resnet,
            IntFunction<A> attention,
            List<ResnetBlock2D> resnets,
            List<A> attentions) {
        resnets.add(resnet.build(w.prefix("resnets", 0), channels, channels));
        for (int i = 0; i < numLayers; i++) {
            attentions.add(attention.apply(i));
            resnets.add(resnet.build(w.prefix("resnets", i + 1), channels, channels));
        }
    }

    /**
     * A mid block's forward: {@code resnets.0}, then each {@code attentions.i} (applied by {@code
     * attend}) followed by {@code resnets.i+1}.
     */
    // Port of diffusers unet_2d_blocks.UNetMidBlock2D.forward and UNetMidBlock2DCrossAttn.forward
    static <A> NDArray mid(
            NDArray x,
            NDArray temb,
            List<ResnetBlock2D> resnets,
            List<A> attentions,
            BiFunction<A, NDArray, NDArray> attend) {
        NDArray h = resnets.get(0).forward(x, temb);
        for (int i = 0; i < attentions.size(); i++) {
            h = attend.apply(attentions.get(i), h);
            h = resnets.get(i + 1).forward(h, temb);
        }
        return h;
    }
}
