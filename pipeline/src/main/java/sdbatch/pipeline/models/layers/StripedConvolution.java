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
        // torch's group_norm as one multiply-add per channel: x * scale + shift, with scale =
        // gamma * rstd and shift = beta - mean * scale of the channel's group.
        NDArray[] affine = channelAffine(x, norm, strip);
        return convolve(
                conv,
                s,
                x.getDataType(),
                x.getManager(),
                strip,
                (lo, hi) -> normSiluRows(x, affine, lo, hi));
    }

    /** The rows [a, b) of what is added to a convolution's output strip (a resnet's residual). */
    @FunctionalInterface
    public interface ResidualRows {
        NDArray rows(long a, long b);
    }

    /**
     * {@code (conv(silu(norm(h))) + residual) / scale} written into h itself, in strips: a resnet's
     * second half at a striped level with no whole-size array beside h (0.5 GB less at the VAE
     * decoder's last level). A strip's output is written back one strip late, once the next strip
     * has been convolved: that strip is the last to read the rows' input through its one-row halo,
     * and the group norm's statistics are taken before any row is overwritten. h must be an array
     * this process may update in place (the strips' own output, {@link #normSiluConv}), not an
     * inference tensor of a TorchScript call; conv keeps h's channel count.
     */
    public static NDArray normSiluConvInto(
            GroupNorm norm, Conv2d conv, NDArray h, ResidualRows residual, float scale) {
        Shape s = h.getShape();
        if (conv.weight().getShape().get(0) != s.get(1)) {
            throw new IllegalArgumentException(
                    "normSiluConvInto needs a convolution that keeps the channels: "
                            + conv.weight().getShape()
                            + " over "
                            + s);
        }
        long height = s.get(2);
        long strip = stripRows(s);
        NDArray[] affine = channelAffine(h, norm, strip);
        NDArray pending = null;
        long pendingFrom = 0;
        for (long a = 0; a < height; a += strip) {
            long b = Math.min(height, a + strip);
            long lo = Math.max(0, a - 1);
            long hi = Math.min(height, b + 1);
            long from = a;
            NDArray out =
                    InnerScope.keep(
                            () -> {
                                NDArray y =
                                        conv.forward(normSiluRows(h, affine, lo, hi))
                                                .get(new NDIndex(":, :, {}:{}", from - lo, b - lo))
                                                .add(residual.rows(from, b));
                                return scale == 1f ? y : y.div(scale);
                            });
            if (pending != null) {
                writeRows(h, pending, pendingFrom);
            }
            pending = out;
            pendingFrom = a;
        }
        if (pending != null) {
            writeRows(h, pending, pendingFrom);
        }
        return h;
    }

    private static void writeRows(NDArray into, NDArray rows, long from) {
        into.set(new NDIndex(":, :, {}:{}", from, from + rows.getShape().get(2)), rows);
        rows.close();
    }

    /** silu(x * scale + shift) over the rows [lo, hi) of x, in x's dtype. */
    private static NDArray normSiluRows(NDArray x, NDArray[] affine, long lo, long hi) {
        NDArray rows = x.get(new NDIndex(":, :, {}:{}", lo, hi));
        DataType dtype = rows.getDataType();
        NDArray normed = rows.toType(DataType.FLOAT32, false).mul(affine[0]).addi(affine[1]);
        NDArray silu = normed.muli(normed.getNDArrayInternal().sigmoid());
        return silu.toType(dtype, false);
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
     * The group norm of x as a per-(image, channel) scale and shift, each [B, C, 1, 1] in float32,
     * from the mean and variance of each (image, group) over the whole of x: per-channel sums of x
     * and x² strip by strip (no whole-size temporary), accumulated in double.
     */
    static NDArray[] channelAffine(NDArray x, GroupNorm norm, long stripRows) {
        Shape s = x.getShape();
        int b = (int) s.get(0);
        int c = (int) s.get(1);
        long height = s.get(2);
        int groups = norm.groups();
        int perGroup = c / groups;
        double[] sum = new double[b * c];
        double[] sumOfSquares = new double[b * c];
        for (long a = 0; a < height; a += stripRows) {
            long e = Math.min(height, a + stripRows);
            try (NDScope scope = new NDScope()) {
                NDArray rows =
                        x.get(new NDIndex(":, :, {}:{}", a, e)).toType(DataType.FLOAT32, false);
                double[] part =
                        rows.sum(new int[] {2, 3}).toType(DataType.FLOAT64, false).toDoubleArray();
                double[] squares =
                        rows.square()
                                .sum(new int[] {2, 3})
                                .toType(DataType.FLOAT64, false)
                                .toDoubleArray();
                for (int i = 0; i < b * c; i++) {
                    sum[i] += part[i];
                    sumOfSquares[i] += squares[i];
                }
            }
        }
        double n = (double) perGroup * height * s.get(3);
        float[] gamma = norm.weight().toType(DataType.FLOAT32, false).toFloatArray();
        float[] beta = norm.bias().toType(DataType.FLOAT32, false).toFloatArray();
        float[] scale = new float[b * c];
        float[] shift = new float[b * c];
        for (int image = 0; image < b; image++) {
            for (int g = 0; g < groups; g++) {
                double groupSum = 0;
                double groupSquares = 0;
                for (int k = 0; k < perGroup; k++) {
                    groupSum += sum[image * c + g * perGroup + k];
                    groupSquares += sumOfSquares[image * c + g * perGroup + k];
                }
                double mean = groupSum / n;
                // Biased variance, as torch's group_norm; clamped at 0 against rounding.
                double variance = Math.max(0, groupSquares / n - mean * mean);
                double rstd = 1 / Math.sqrt(variance + norm.eps());
                for (int k = 0; k < perGroup; k++) {
                    int channel = g * perGroup + k;
                    double channelScale = gamma[channel] * rstd;
                    scale[image * c + channel] = (float) channelScale;
                    shift[image * c + channel] = (float) (beta[channel] - mean * channelScale);
                }
            }
        }
        Shape affineShape = new Shape(b, c, 1, 1);
        NDManager m = x.getManager();
        return new NDArray[] {m.create(scale, affineShape), m.create(shift, affineShape)};
    }
}
