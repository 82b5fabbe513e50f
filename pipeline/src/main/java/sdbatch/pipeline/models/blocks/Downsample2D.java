package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.models.layers.Conv2d;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.weights.Weights;

/**
 * diffusers' {@code Downsample2D} with {@code use_conv=True} (models/downsampling.py): a 3×3
 * stride-2 {@code conv}. With {@code padding=0} (the VAE encoder) the input is first padded by one
 * zero row and column at the bottom and right, as diffusers does.
 */
public final class Downsample2D {
    final Conv2d conv;
    private final boolean padBottomRight;

    public Downsample2D(Weights w, int channels, int outChannels, int padding) {
        this.conv = new Conv2d(w.prefix("conv"), channels, outChannels, 3, 2, padding);
        this.padBottomRight = padding == 0;
    }

    // Port of diffusers downsampling.Downsample2D.forward
    public NDArray forward(NDArray x) {
        return InnerScope.keep(
                () -> {
                    NDArray h = x;
                    if (padBottomRight) {
                        // F.pad(x, (0, 1, 0, 1)): (left, right) of W, then (top, bottom) of H.
                        h = h.pad(new Shape(0, 1, 0, 1), 0);
                    }
                    return conv.forward(h);
                });
    }
}
