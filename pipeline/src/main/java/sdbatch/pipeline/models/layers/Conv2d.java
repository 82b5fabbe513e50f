package sdbatch.pipeline.models.layers;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.weights.Weights;

/**
 * {@code torch.nn.Conv2d} with square kernel, stride and zero padding: {@code weight} [out, in, k,
 * k] and {@code bias} [out] read under this layer's prefix.
 *
 * <p>Two ways to compute it, same result to float rounding (tested):
 *
 * <ul>
 *   <li>libtorch's {@code conv2d}. On CPU in float32 that is oneDNN, which reorders the plain [out,
 *       in, k, k] weight into its blocked layout on every call (eager libtorch keeps no reordered
 *       copy). When there are few output positions per weight element, that reorder is most of the
 *       call: in the SD 1.5 UNet at 32×32 latents, a 1280→1280 3×3 convolution on 4×4 (batch 2) ran
 *       at 44 GFLOP/s, and the stride-2 downsamplers at 36-41 GFLOP/s.
 *   <li>Lowered: the input's k·k shifted (and strided) views stacked into an [in·k·k,
 *       batch·positions] matrix (im2col), then one {@code mm} with the weight viewed as [out,
 *       in·k·k] (no copy of the weight). MKL's sgemm reads the weight as it is; the copied input
 *       matrix is small exactly when positions are few.
 * </ul>
 *
 * <p>{@link #lowerOnCpu} picks the lowered form on CPU for weights of at least 1M elements when the
 * output has at most 256 positions (batch × height × width), or at most 512 with a weight of at
 * least 8M elements; measured on the development machine (BENCHMARKS.md): 3.4× faster for a
 * 1280→1280 3×3 convolution at 4×4, 2× at 8×8, 1.3× at 16×16, a tie for 640 channels at 16×16, and
 * slower from 32×32 up; for small weights (the tiny test models) libtorch's path is as fast or
 * faster. 1×1 stride-1 convolutions (the UNet's {@code proj_in}/{@code proj_out} and resnet
 * shortcuts) are always computed as a matrix product on CPU: no im2col copy is needed, and it skips
 * oneDNN's reorder of the activations (320→320 at 64×64, batch 2: 7.4 → 6.2 ms; 640→320 at 64×64:
 * 19.2 → 10.9 ms). On GPUs libtorch's convolution (cuDNN) is always used. {@value
 * ComputeOptions#convLowering} = {@code auto} (default), {@code never} or {@code always} overrides
 * the choice.
 */
public final class Conv2d {

    private static final long SMALL_POSITIONS = 256;
    private static final long MEDIUM_POSITIONS = 512;
    private static final long MIN_WEIGHT_ELEMENTS = 1L << 20;
    private static final long LARGE_WEIGHT_ELEMENTS = 8L << 20;

    /**
     * How convolutions are computed in the current {@link ComputeOptions}: {@code auto}, {@code
     * never} (always libtorch's {@code conv2d}) or {@code always} (a tuning and benchmarking knob;
     * results are the same either way).
     */
    public static String lowering() {
        return ComputeOptions.current().convLowering();
    }

    private final NDArray weight;
    private final NDArray bias;
    private final int kernel;
    private final int strideValue;
    private final int paddingValue;
    private final Shape stride;
    private final Shape padding;
    private final NDArray weightMatrix; // [out, in·k·k], a view of weight (no copy)
    final Bf16Compute.Slot bf16;

    public Conv2d(Weights w, int in, int out, int kernel, int stride, int padding) {
        this.weight = w.get("weight", new Shape(out, in, kernel, kernel));
        this.bias = w.get("bias", new Shape(out));
        this.bf16 = w.derived(new Bf16Compute.Slot());
        this.kernel = kernel;
        this.strideValue = stride;
        this.paddingValue = padding;
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
        NDArray view = weight.reshape(out, (long) in * kernel * kernel);
        // Owned by the weight's manager, not by whatever scope builds the model.
        NDScope.unregister(view);
        view.attach(weight.getManager());
        this.weightMatrix = view;
    }

    /** A stride-1 convolution padded to keep the size ({@code padding = k / 2}). */
    public static Conv2d same(Weights w, int in, int out, int kernel) {
        return new Conv2d(w, in, out, kernel, 1, kernel / 2);
    }

    /** The [out, in, k, k] weight, owned by the model's weights (callers must not close it). */
    public NDArray weight() {
        return weight;
    }

    /** The [out] bias. */
    public NDArray bias() {
        return bias;
    }

    public NDArray forward(NDArray x) {
        boolean bf16Compute = Bf16Compute.usable(x);
        if (bf16Compute) {
            // Prepacked bfloat16 weights beat the float32 lowering too (1280→1280 at 4×4: 4.0 ms
            // against 6.3 ms), so they come first.
            Bf16Compute.Packed p = bf16Packed(x, x.getShape());
            if (p != null) {
                return Bf16Compute.conv2d(p, x, strideValue, paddingValue);
            }
        }
        if (lowerOnCpu(x)) {
            return lowered(x);
        }
        if (bf16Compute) {
            return Bf16Compute.conv2d(x, weight, bias, strideValue, paddingValue);
        }
        return direct(x);
    }

    /**
     * This layer's prepacked bfloat16 weights, packed (on first use) for input shaped {@code
     * input}, or null where bfloat16 compute has no prepacked path for {@code like}. Public for the
     * blocks' single-call bfloat16 paths ({@link sdbatch.pipeline.models.kernels.Bf16Fused}).
     */
    public Bf16Compute.Packed bf16Packed(NDArray like, Shape input) {
        return bf16.get(
                like, () -> Bf16Compute.packConv(weight, bias, strideValue, paddingValue, input));
    }

    /**
     * Whether this is a {@code kernel}×{@code kernel} stride-1 convolution (the shapes the
     * single-call resnet of {@link sdbatch.pipeline.models.kernels.Bf16Fused} takes).
     */
    public boolean isStride1Square(int kernel) {
        return this.kernel == kernel && strideValue == 1;
    }

    /** The zero padding on each side. */
    public int padding() {
        return paddingValue;
    }

    /** libtorch's {@code conv2d}. */
    NDArray direct(NDArray x) {
        return ai.djl.nn.convolutional.Conv2d.conv2d(
                        x, weight, bias, stride, padding, new Shape(1, 1), 1)
                .singletonOrThrow();
    }

    /** Whether {@link #forward} takes the im2col + matrix-product path for this input. */
    boolean lowerOnCpu(NDArray x) {
        switch (lowering()) {
            case "never":
                return false;
            case "always":
                return true;
            default:
                break;
        }
        if (!Device.Type.CPU.equals(x.getDevice().getDeviceType())
                || x.getDataType() != DataType.FLOAT32) {
            return false;
        }
        if (pointwise()) {
            return true;
        }
        Shape s = x.getShape();
        long positions = s.get(0) * outSize(s.get(2)) * outSize(s.get(3));
        long weightElements = weight.getShape().size();
        if (weightElements < MIN_WEIGHT_ELEMENTS) {
            return false;
        }
        return positions <= SMALL_POSITIONS
                || (positions <= MEDIUM_POSITIONS && weightElements >= LARGE_WEIGHT_ELEMENTS);
    }

    private long outSize(long in) {
        return (in + 2L * paddingValue - kernel) / strideValue + 1;
    }

    /** A 1×1, stride-1, unpadded convolution: a matrix product over channels at every position. */
    private boolean pointwise() {
        return kernel == 1 && strideValue == 1 && paddingValue == 0;
    }

    /**
     * im2col + one {@code mm}: [out, in·k·k] × [in·k·k, batch·hOut·wOut]; for a {@link #pointwise}
     * convolution, [out, in] × [batch, in, h·w] on the input as it lies, no copy, with the output
     * already in [batch, out, h, w] order.
     */
    NDArray lowered(NDArray x) {
        NDArray y = pointwise() ? pointwiseProduct(x) : im2colProduct(x);
        // A product takes the manager of its left operand, the weight's: hand the result to the
        // input's manager, as libtorch's conv2d would, so that a caller freeing its own manager
        // frees it (the VAE's post_quant_conv runs outside any scope).
        y.attach(x.getManager());
        return y;
    }

    private NDArray pointwiseProduct(NDArray x) {
        return InnerScope.keep(
                () -> {
                    Shape s = x.getShape();
                    return weightMatrix
                            .matMul(x.reshape(s.get(0), s.get(1), -1))
                            .addi(bias.reshape(-1, 1))
                            .reshape(s.get(0), -1, s.get(2), s.get(3));
                });
    }

    private NDArray im2colProduct(NDArray x) {
        return InnerScope.keep(
                () -> {
                    Shape s = x.getShape();
                    long batch = s.get(0);
                    long channels = s.get(1);
                    long hOut = outSize(s.get(2));
                    long wOut = outSize(s.get(3));
                    // Channels first so that each tap's [in, batch, hOut, wOut] block stacks
                    // directly into the rows of the column matrix, in the weight's (in, ky, kx)
                    // order.
                    NDArray xt = x.transpose(1, 0, 2, 3);
                    if (paddingValue > 0) {
                        int p = paddingValue;
                        xt = xt.pad(new Shape(p, p, p, p), 0);
                    }
                    NDList taps = new NDList(kernel * kernel);
                    for (int dy = 0; dy < kernel; dy++) {
                        for (int dx = 0; dx < kernel; dx++) {
                            taps.add(
                                    xt.get(
                                            new NDIndex(
                                                    ":, :, {}:{}:{}, {}:{}:{}",
                                                    dy,
                                                    dy + (hOut - 1) * strideValue + 1,
                                                    strideValue,
                                                    dx,
                                                    dx + (wOut - 1) * strideValue + 1,
                                                    strideValue)));
                        }
                    }
                    NDArray columns =
                            taps.size() == 1
                                    ? taps.get(0).reshape(channels, batch * hOut * wOut)
                                    : NDArrays.stack(taps, 1)
                                            .reshape(
                                                    channels * kernel * kernel,
                                                    batch * hOut * wOut);
                    NDArray y = weightMatrix.dot(columns).addi(bias.reshape(-1, 1));
                    // [out, batch, hOut, wOut] viewed as [batch, out, hOut, wOut]; the next
                    // elementwise op or reshape lays it out again.
                    return y.reshape(-1, batch, hOut, wOut).transpose(1, 0, 2, 3);
                });
    }
}
