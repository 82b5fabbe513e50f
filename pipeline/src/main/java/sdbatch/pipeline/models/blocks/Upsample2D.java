package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.InnerScope;
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
                    NDArray h = x;
                    DataType dtype = h.getDataType();
                    // diffusers: upsample_nearest2d_out_frame has no bfloat16 kernel.
                    if (dtype == DataType.BFLOAT16) {
                        h = h.toType(DataType.FLOAT32, false);
                    }
                    h = upsampleNearest(h, outputSize);
                    if (dtype == DataType.BFLOAT16) {
                        h = h.toType(dtype, false);
                    }
                    return conv.forward(h);
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
