package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.engine.PtNDManager;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.kernels.GroupNormKernel;
import sdbatch.pipeline.weights.Weights;

/**
 * {@code torch.nn.GroupNorm} with affine {@code weight} and {@code bias} [C]. DJL has no group
 * norm, but a group norm of [B, C, ...] is a layer norm of the [B, G, C/G·rest] view over its last
 * axis (the same per-row mean and biased variance), followed by the per-channel affine: seven
 * native calls and one fused normalisation kernel, where the same math in element-wise ops took
 * about fourteen calls and six passes over the activation.
 *
 * <p>Half-precision inputs are normalised in float32 (as torch's kernels accumulate in float):
 * squares of large activations overflow float16.
 */
public final class GroupNorm {
    /**
     * Whether float32 group norms use libtorch's kernel (through a TorchScript module) or the
     * layer-norm formulation, as the current {@link ComputeOptions#fusedGroupNorm} say: a speed
     * knob (results agree to float rounding).
     */
    public static boolean fused() {
        return ComputeOptions.current().fusedGroupNorm();
    }

    /** Why the fused kernel could not be loaded, or null. */
    public static String fusedUnavailableReason() {
        return GroupNormKernel.unavailableReason();
    }

    private final NDArray weight;
    private final NDArray bias;
    private final int groups;
    private final int channels;
    private final float eps;

    /** Float32 weight and bias shaped [C, 1] and [C, 1, 1] (3-D and 4-D inputs), made once. */
    private final NDArray[] affine3;

    private final NDArray[] affine4;

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
        this.affine3 = affineFor(3);
        this.affine4 = affineFor(4);
    }

    // The parameters, for the single-call bfloat16 blocks that normalise inside libtorch
    // (sdbatch.pipeline.models.kernels.Bf16Fused); owned by the model's weights.

    /** The [C] gain. */
    public NDArray weight() {
        return weight;
    }

    /** The [C] shift. */
    public NDArray bias() {
        return bias;
    }

    /** The number of groups the channels are normalised in. */
    public int groups() {
        return groups;
    }

    /** The epsilon added to the variance. */
    public double eps() {
        return eps;
    }

    public NDArray forward(NDArray x) {
        return usesKernel(x) ? kernel(x, false) : formula(x);
    }

    /** {@code silu(forward(x))}, fused where libtorch's kernel is used. */
    public NDArray forwardSilu(NDArray x) {
        return usesKernel(x) ? kernel(x, true) : Activations.silu(formula(x));
    }

    private boolean usesKernel(NDArray x) {
        return fused()
                && x.getDataType() == DataType.FLOAT32
                && weight.getDataType() == DataType.FLOAT32
                && x.getManager() instanceof PtNDManager
                && GroupNormKernel.available();
    }

    private NDArray kernel(NDArray x, boolean silu) {
        return GroupNormKernel.apply(x, groups, weight, bias, eps, silu);
    }

    // Port of torch.nn.functional.group_norm (math, not kernel).
    NDArray formula(NDArray x) {
        return InnerScope.keep(
                () -> {
                    Shape shape = x.getShape();
                    DataType dtype = x.getDataType();
                    NDArray h = dtype == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
                    long rows = shape.get(0) * groups;
                    long n = shape.size() / rows;
                    // DJL's layer norm needs a gain and a shift; unit ones per call (tiny next to
                    // the activation) keep the model's live arrays fixed after construction.
                    NDManager m = h.getManager();
                    NDArray normed =
                            LayerNorm.layerNorm(
                                            h.reshape(shape.get(0), groups, n),
                                            new Shape(n),
                                            m.ones(new Shape(n)),
                                            m.zeros(new Shape(n)),
                                            eps)
                                    .singletonOrThrow()
                                    .reshape(shape);
                    int rank = shape.dimension();
                    NDArray[] a = rank == 4 ? affine4 : rank == 3 ? affine3 : affineFor(rank);
                    NDArray out = normed.mul(a[0]).add(a[1]);
                    return out.getDataType() == dtype ? out : out.toType(dtype, false);
                });
    }

    private NDArray[] affineFor(int rank) {
        long[] dims = new long[rank - 1];
        java.util.Arrays.fill(dims, 1);
        dims[0] = channels;
        Shape as = new Shape(dims);
        NDArray w = weight.toType(DataType.FLOAT32, false).reshape(as);
        NDArray b = bias.toType(DataType.FLOAT32, false).reshape(as);
        return new NDArray[] {w, b};
    }
}
