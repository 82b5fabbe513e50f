package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.models.kernels.Bf16Fused;
import sdbatch.pipeline.models.layers.Activations;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.GroupNorm;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.models.layers.StripedConvolution;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code ResnetBlock2D} (models/resnet.py) with {@code time_embedding_norm="default"}:
 * GroupNorm, SiLU, 3×3 {@code conv1}, plus the projected timestep embedding ({@code time_emb_proj},
 * absent in the VAE), GroupNorm, SiLU, {@code conv2}, added to the input (through a 1×1 {@code
 * conv_shortcut} when the channel count changes), divided by the output scale factor.
 */
public final class ResnetBlock2D {
    final GroupNorm norm1;
    final Conv2d conv1;
    final Linear timeEmbProj;
    final GroupNorm norm2;
    final Conv2d conv2;
    final Conv2d convShortcut;
    private final float outputScaleFactor;

    /**
     * What every resnet of one UNet or VAE block shares (arguments diffusers' {@code
     * get_down_block} and {@code get_up_block} pass on alike): {@code temb_channels} (0: no
     * timestep embedding, the VAE), {@code resnet_groups}, {@code resnet_eps} and {@code
     * output_scale_factor}.
     */
    public record Settings(int tembChannels, int groups, double eps, double outputScaleFactor) {
        /** A resnet from {@code inChannels} to {@code outChannels} with these settings. */
        ResnetBlock2D build(Weights w, int inChannels, int outChannels) {
            return new ResnetBlock2D(
                    w, inChannels, outChannels, tembChannels, groups, eps, outputScaleFactor);
        }
    }

    /**
     * @param tembChannels width of the timestep embedding, or 0 for none (VAE)
     */
    public ResnetBlock2D(
            Weights w,
            int inChannels,
            int outChannels,
            int tembChannels,
            int groups,
            double eps,
            double outputScaleFactor) {
        this.norm1 = new GroupNorm(w.prefix("norm1"), groups, inChannels, eps);
        this.conv1 = Conv2d.same(w.prefix("conv1"), inChannels, outChannels, 3);
        this.timeEmbProj =
                tembChannels > 0
                        ? new Linear(w.prefix("time_emb_proj"), tembChannels, outChannels, true)
                        : null;
        this.norm2 = new GroupNorm(w.prefix("norm2"), groups, outChannels, eps);
        this.conv2 = Conv2d.same(w.prefix("conv2"), outChannels, outChannels, 3);
        this.convShortcut =
                inChannels != outChannels
                        ? new Conv2d(w.prefix("conv_shortcut"), inChannels, outChannels, 1, 1, 0)
                        : null;
        this.outputScaleFactor = (float) outputScaleFactor;
    }

    // Port of diffusers resnet.ResnetBlock2D.forward
    public NDArray forward(NDArray x, NDArray temb) {
        NDArray fused = fusedBf16(x, null, temb);
        if (fused != null) {
            return fused;
        }
        return InnerScope.keep(
                () -> {
                    // Intermediates are freed as soon as read (InnerScope.consume); x is the
                    // caller's.
                    NDArray h = normSiluConv(norm1, conv1, x);
                    // In strips, h is the strips' own output (not an inference tensor of a
                    // TorchScript call, which libtorch will not update in place).
                    boolean hIsStripOutput = StripedConvolution.applies(conv1, x.getShape());
                    if (timeEmbProj != null && temb != null) {
                        NDArray t = timeEmbProj.forward(Activations.silu(temb));
                        h = InnerScope.consume(h, a -> a.add(t.expandDims(-1).expandDims(-1)));
                    }
                    if (hIsStripOutput && StripedConvolution.applies(conv2, h.getShape())) {
                        // The second half and the residual written into h strip by strip: beside
                        // x and h, no whole-size array (at the VAE's last level, 0.5 GB each).
                        return StripedConvolution.normSiluConvInto(
                                norm2,
                                conv2,
                                h,
                                (a, b) -> shortcutRows(x, a, b),
                                outputScaleFactor);
                    }
                    h = InnerScope.consume(h, a -> normSiluConv(norm2, conv2, a));
                    NDArray shortcut = convShortcut != null ? convShortcut.forward(x) : x;
                    NDArray out = shortcut.add(h);
                    h.close();
                    if (shortcut != x) {
                        shortcut.close();
                    }
                    return outputScaleFactor == 1f
                            ? out
                            : InnerScope.consume(out, a -> a.div(outputScaleFactor));
                });
    }

    /** The rows [a, b) of the residual: x's, through {@code conv_shortcut} where there is one. */
    private NDArray shortcutRows(NDArray x, long a, long b) {
        NDArray rows = x.get(new NDIndex(":, :, {}:{}", a, b));
        return convShortcut != null ? convShortcut.forward(rows) : rows;
    }

    /**
     * {@code conv(silu(norm(x)))}, in strips of rows over a large activation (the VAE decoder's
     * highest resolutions: {@link StripedConvolution}).
     */
    static NDArray normSiluConv(GroupNorm norm, Conv2d conv, NDArray x) {
        if (StripedConvolution.applies(conv, x.getShape())) {
            return StripedConvolution.normSiluConv(norm, conv, x);
        }
        return InnerScope.consume(norm.forwardSilu(x), conv::forward);
    }

    /**
     * {@code forward(cat([x, skip], channels), temb)}: an up block's layer on its skip connection,
     * concatenated inside the single bfloat16 call where that applies.
     */
    public NDArray forwardWithSkip(NDArray x, NDArray skip, NDArray temb) {
        NDArray fused = fusedBf16(x, skip, temb);
        return fused != null ? fused : InnerScope.keep(() -> forward(x.concat(skip, 1), temb));
    }

    /**
     * The whole block on {@code x}, or on {@code cat([x, skip], channels)} if {@code skip} is not
     * null, in one bfloat16 call ({@link Bf16Fused}): the activations between its layers never
     * reach DJL, and ten native calls become one. Null where that path does not apply.
     */
    private NDArray fusedBf16(NDArray x, NDArray skip, NDArray temb) {
        Shape s = x.getShape();
        if (s.dimension() != 4
                || !Bf16Fused.usable(x)
                || !conv1.isStride1Square(3)
                || !conv2.isStride1Square(3)
                || (convShortcut != null && !convShortcut.isStride1Square(1))) {
            return null;
        }
        if (skip != null) {
            Shape k = skip.getShape();
            if (k.dimension() != 4
                    || k.get(0) != s.get(0)
                    || k.get(2) != s.get(2)
                    || k.get(3) != s.get(3)
                    || !Bf16Compute.usable(skip)) {
                return null;
            }
            s = new Shape(s.get(0), s.get(1) + k.get(1), s.get(2), s.get(3));
        }
        boolean withTemb = timeEmbProj != null && temb != null;
        Bf16Compute.Packed projected = withTemb ? timeEmbProj.bf16Packed(temb) : null;
        Bf16Compute.Packed shortcut = convShortcut != null ? convShortcut.bf16Packed(x, s) : null;
        if ((withTemb && projected == null) || (convShortcut != null && shortcut == null)) {
            return null;
        }
        Shape hidden = new Shape(s.get(0), conv1.weight().getShape().get(0), s.get(2), s.get(3));
        Object[] args =
                Bf16Fused.resnetArgs(
                        skip != null,
                        norm1,
                        conv1.bf16Packed(x, s),
                        conv1.padding(),
                        projected,
                        norm2,
                        conv2.bf16Packed(x, hidden),
                        conv2.padding(),
                        shortcut,
                        outputScaleFactor);
        if (args == null) {
            return null;
        }
        return Bf16Fused.call("resnet", args, x, skip != null ? skip : x, withTemb ? temb : x);
    }
}
