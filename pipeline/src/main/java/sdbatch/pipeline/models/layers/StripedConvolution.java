package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.compute.ComputeOptions;

/**
 * A 3×3 stride-1 convolution over a large activation computed in strips of rows, so that what feeds
 * it (a group norm and SiLU, or a ×2 nearest upsampling) is never held whole: only the input and
 * the output are. The VAE decoder at 1024² is where this matters: there, {@code
 * conv(silu(group_norm(x)))} over a [1, 256, 1024, 1024] float32 input held the 1 GB normalised
 * copy beside the input (and libtorch reorders both for oneDNN), and {@code conv(upsample(x))} held
 * the 1 GB upsampled copy of a 256 MB input.
 *
 * <p>The result is the unstriped one to float rounding: a convolution output row reads its three
 * input rows only, so each strip is convolved with one row of its neighbours on either side (the
 * real rows, or the zero padding at the image's top and bottom) and the rows that needed the strip
 * edge are dropped; the group norm's statistics are those of the whole input (accumulated over the
 * strips in float64 before any row is normalised), as {@code torch.nn.GroupNorm} computes them.
 *
 * <p>When: an activation of more than {@link ComputeOptions#stripElements()} elements (default 32
 * M: the VAE decoder's two highest-resolution levels at 1024², none of the UNet's), in strips of
 * about half that.
 */
public final class StripedConvolution {
    private StripedConvolution() {}

    /** The rows [lo, hi) of a convolution's (virtual) input, made on demand. */
    @FunctionalInterface
    public interface InputRows {
        NDArray rows(long lo, long hi);
    }

    /**
     * Whether a convolution over an input of {@code inputShape} through {@code conv} runs in
     * strips.
     */
    public static boolean applies(Conv2d conv, Shape inputShape) {
        return inputShape.dimension() == 4
                && conv.isStride1Square(3)
                && conv.padding() == 1
                && inputShape.size() > ComputeOptions.current().stripElements();
    }

    /** {@code conv(silu(norm(x)))} in strips; {@code applies(conv, x.getShape())} must hold. */
    public static NDArray normSiluConv(GroupNorm norm, Conv2d conv, NDArray x) {
        Shape s = x.getShape();
        long strip = stripRows(s);
        NDArray[] stats = groupStatistics(x, norm.groups(), norm.eps(), strip);
        long b = s.get(0);
        long c = s.get(1);
        long w = s.get(3);
        int g = norm.groups();
        NDArray gamma = norm.weight().toType(DataType.FLOAT32, false).reshape(c, 1, 1);
        NDArray beta = norm.bias().toType(DataType.FLOAT32, false).reshape(c, 1, 1);
        return convolve(
                conv,
                s,
                x.getDataType(),
                x.getManager(),
                strip,
                (lo, hi) -> {
                    NDArray rows =
                            x.get(new NDIndex(":, :, {}:{}", lo, hi))
                                    .toType(DataType.FLOAT32, false)
                                    .reshape(b, g, c / g, hi - lo, w);
                    NDArray normed =
                            rows.sub(stats[0])
                                    .mul(stats[1])
                                    .reshape(b, c, hi - lo, w)
                                    .mul(gamma)
                                    .add(beta);
                    return Activations.silu(normed).toType(x.getDataType(), false);
                });
    }

    /**
     * {@code conv(x)} where x is the convolution's input given by rows: the caller's {@code
     * inputShape} ([B, C, H, W] of that virtual input) and {@code rows} make it strip by strip.
     */
    public static NDArray convolve(
            Conv2d conv,
            Shape inputShape,
            DataType dtype,
            NDManager manager,
            long stripRows,
            InputRows rows) {
        long height = inputShape.get(2);
        Shape outShape =
                new Shape(
                        inputShape.get(0),
                        conv.weight().getShape().get(0),
                        height,
                        inputShape.get(3));
        NDArray out = manager.zeros(outShape, dtype);
        for (long a = 0; a < height; a += stripRows) {
            long b = Math.min(height, a + stripRows);
            long lo = Math.max(0, a - 1);
            long hi = Math.min(height, b + 1);
            try (NDScope scope = new NDScope()) {
                NDArray y = conv.forward(rows.rows(lo, hi));
                out.set(
                        new NDIndex(":, :, {}:{}", a, b),
                        y.get(new NDIndex(":, :, {}:{}", a - lo, b - lo)));
            }
        }
        return out;
    }

    /**
     * Rows per strip of an input of {@code s}: about half {@link ComputeOptions#stripElements()}.
     */
    public static long stripRows(Shape s) {
        long perRow = s.get(0) * s.get(1) * s.get(3);
        return Math.max(1, ComputeOptions.current().stripElements() / 2 / perRow);
    }

    /**
     * The per-(image, group) mean and 1/sqrt(var + eps) of x, shaped [B, G, 1, 1, 1] in float32:
     * sums of x and x² over the strips in float64, so that no whole-size temporary is made.
     */
    static NDArray[] groupStatistics(NDArray x, int groups, double eps, long stripRows) {
        Shape s = x.getShape();
        long b = s.get(0);
        long height = s.get(2);
        int cells = (int) (b * groups);
        double n = (double) (s.size() / cells);
        double[] sum = new double[cells];
        double[] sumOfSquares = new double[cells];
        for (long a = 0; a < height; a += stripRows) {
            long e = Math.min(height, a + stripRows);
            try (NDScope scope = new NDScope()) {
                NDArray rows =
                        x.get(new NDIndex(":, :, {}:{}", a, e))
                                .toType(DataType.FLOAT64, false)
                                .reshape(b, groups, -1);
                double[] part = rows.sum(new int[] {2}).toDoubleArray();
                double[] squares = rows.square().sum(new int[] {2}).toDoubleArray();
                for (int i = 0; i < cells; i++) {
                    sum[i] += part[i];
                    sumOfSquares[i] += squares[i];
                }
            }
        }
        float[] mean = new float[cells];
        float[] rstd = new float[cells];
        for (int i = 0; i < cells; i++) {
            double mu = sum[i] / n;
            // Biased variance, as torch's group_norm; clamped at 0 against rounding.
            double variance = Math.max(0, sumOfSquares[i] / n - mu * mu);
            mean[i] = (float) mu;
            rstd[i] = (float) (1 / Math.sqrt(variance + eps));
        }
        Shape statsShape = new Shape(b, groups, 1, 1, 1);
        NDManager m = x.getManager();
        return new NDArray[] {m.create(mean, statsShape), m.create(rstd, statsShape)};
    }
}
