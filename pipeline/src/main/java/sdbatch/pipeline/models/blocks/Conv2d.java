package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.weights.Weights;

/**
 * {@code torch.nn.Conv2d} with square kernel, stride and zero padding: {@code weight} [out, in, k,
 * k] and {@code bias} [out] read under this layer's prefix.
 */
public final class Conv2d {
    final NDArray weight;
    final NDArray bias;
    private final Shape stride;
    private final Shape padding;

    public Conv2d(Weights w, int in, int out, int kernel, int stride, int padding) {
        this.weight = w.get("weight", new Shape(out, in, kernel, kernel));
        this.bias = w.get("bias", new Shape(out));
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
    }

    /** A stride-1 convolution padded to keep the size ({@code padding = k / 2}). */
    public static Conv2d same(Weights w, int in, int out, int kernel) {
        return new Conv2d(w, in, out, kernel, 1, kernel / 2);
    }

    public NDArray forward(NDArray x) {
        return ai.djl.nn.convolutional.Conv2d.conv2d(
                        x, weight, bias, stride, padding, new Shape(1, 1), 1)
                .singletonOrThrow();
    }
}
