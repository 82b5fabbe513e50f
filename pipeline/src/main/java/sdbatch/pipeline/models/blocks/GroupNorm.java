package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.weights.Weights;

/**
 * {@code torch.nn.GroupNorm} with affine {@code weight} and {@code bias} [C], built from ops
 * because DJL has none: the input [B, C, ...] is viewed as [B, G, C/G·rest], each row normalised
 * with its biased variance, then scaled and shifted per channel.
 *
 * <p>Half-precision inputs are normalised in float32 (as torch's kernels accumulate in float):
 * squares of large activations overflow float16.
 */
public final class GroupNorm {
    final NDArray weight;
    final NDArray bias;
    private final int groups;
    private final int channels;
    private final float eps;

    public GroupNorm(Weights w, int groups, int channels, double eps) {
        if (channels % groups != 0) {
            throw new IllegalArgumentException(
                    "GroupNorm: channels " + channels + " not divisible by groups " + groups);
        }
        this.weight = w.get("weight", new Shape(channels));
        this.bias = w.get("bias", new Shape(channels));
        this.groups = groups;
        this.channels = channels;
        this.eps = (float) eps;
    }

    // Port of torch.nn.functional.group_norm (math, not kernel).
    public NDArray forward(NDArray x) {
        return Scoped.keep(
                () -> {
                    Shape shape = x.getShape();
                    DataType dtype = x.getDataType();
                    NDArray h = dtype == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
                    NDArray g = h.reshape(shape.get(0), groups, -1);
                    NDArray mean = g.mean(new int[] {2}, true);
                    NDArray centered = g.sub(mean);
                    NDArray var = centered.square().mean(new int[] {2}, true);
                    NDArray normed = centered.div(var.add(eps).sqrt()).reshape(shape);
                    long[] affine = new long[shape.dimension()];
                    java.util.Arrays.fill(affine, 1);
                    affine[1] = channels;
                    Shape as = new Shape(affine);
                    NDArray out =
                            normed.mul(weight.toType(DataType.FLOAT32, false).reshape(as))
                                    .add(bias.toType(DataType.FLOAT32, false).reshape(as));
                    return out.getDataType() == dtype ? out : out.toType(dtype, false);
                });
    }
}
