package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.StripedConvolution;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code Upsample2D} with {@code use_conv=True} (models/upsampling.py): nearest-
 * neighbour upsampling (×2, or to the skip connection's size when the UNet's input is not a
 * multiple of its total down factor), then a 3×3 {@code conv}.
 */
public final class Upsample2D {
    /** DJL's mode number for nearest interpolation (torch upsample_nearest2d). */
    private static final int NEAREST = 0;

    final Conv2d conv;

    public Upsample2D(Weights w, int channels, int outChannels) {
        this.conv = Conv2d.same(w.prefix("conv"), channels, outChannels, 3);
    }

    /**
     * @param outputSize target [H, W], or null for exactly twice the input
     */
    // Port of diffusers upsampling.Upsample2D.forward
    public NDArray forward(NDArray x, long[] outputSize) {
        return InnerScope.keep(
                () -> {
                    if (outputSize == null
                            && StripedConvolution.applies(conv, upsampledShape(x.getShape()))) {
                        return upsampleConvInStrips(x);
                    }
                    NDArray h = x;
                    DataType dtype = h.getDataType();
                    // diffusers: upsample_nearest2d_out_frame has no bfloat16 kernel.
                    if (dtype == DataType.BFLOAT16) {
                        h = h.toType(DataType.FLOAT32, false);
                    }
                    h =
                            h == x
                                    ? upsampleNearest(h, outputSize)
                                    : InnerScope.consume(h, a -> upsampleNearest(a, outputSize));
                    if (dtype == DataType.BFLOAT16) {
                        h = InnerScope.consume(h, a -> a.toType(dtype, false));
                    }
                    // The upsampled activation is 4x the input (1 GB at the VAE's last level).
                    return InnerScope.consume(h, conv::forward);
                });
    }

    private static Shape upsampledShape(Shape s) {
        return new Shape(s.get(0), s.get(1), 2 * s.get(2), 2 * s.get(3));
    }

    /**
     * {@code conv(upsample(x))} with the ×2 upsampled input made strip by strip: output rows [lo,
     * hi) of the upsampling are input rows [lo / 2, (hi + 1) / 2), repeated.
     */
    private NDArray upsampleConvInStrips(NDArray x) {
        Shape up = upsampledShape(x.getShape());
        DataType dtype = x.getDataType();
        return StripedConvolution.convolve(
                conv,
                up,
                dtype,
                x.getManager(),
                StripedConvolution.stripRows(up),
                (lo, hi) -> {
                    long first = lo / 2;
                    NDArray source = x.get(new NDIndex(":, :, {}:{}", first, (hi + 1) / 2));
                    // diffusers: upsample_nearest2d_out_frame has no bfloat16 kernel.
                    if (dtype == DataType.BFLOAT16) {
                        source = source.toType(DataType.FLOAT32, false);
                    }
                    NDArray rows =
                            upsampleNearest(source, null)
                                    .get(
                                            new NDIndex(
                                                    ":, :, {}:{}", lo - 2 * first, hi - 2 * first));
                    return dtype == DataType.BFLOAT16 ? rows.toType(dtype, false) : rows;
                });
    }

    /**
     * Nearest-neighbour resize of [B, C, H, W]: ×2 by repeating each pixel (exact), any other size
     * by torch's {@code upsample_nearest2d} ({@code src = floor(dst · in / out)}).
     */
    public static NDArray upsampleNearest(NDArray x, long[] outputSize) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long height = s.get(2);
        long width = s.get(3);
        if (outputSize == null || (outputSize[0] == 2 * height && outputSize[1] == 2 * width)) {
            return x.reshape(b, c, height, 1, width, 1)
                    .broadcast(b, c, height, 2, width, 2)
                    .reshape(b, c, 2 * height, 2 * width);
        }
        return x.getNDArrayInternal().interpolation(outputSize, NEAREST, false);
    }
}
