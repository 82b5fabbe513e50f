package sdbatch.pipeline.models.kernels;

import ai.djl.ndarray.NDArray;

/**
 * libtorch's own {@code group_norm} kernel (DJL 0.36 has none), and the SiLU that follows most
 * group norms of the UNet and VAE, in one call through a TorchScript module
 * (SdbatchGroupNorm.torchscript beside {@link TorchScriptOps}): two passes over the activation
 * where the NDArray formulation plus x·sigmoid(x) made six, and five native calls fewer. {@link
 * sdbatch.pipeline.models.layers.GroupNorm} decides when to use it.
 */
public final class GroupNormKernel {
    private static final TorchScriptOps.Lazy MODULE =
            TorchScriptOps.Lazy.fromResource("SdbatchGroupNorm", null);

    private GroupNormKernel() {}

    /** Whether the module loaded (loading it on first ask). */
    public static boolean available() {
        return MODULE.get() != null;
    }

    /** Why the module could not be loaded, or null. */
    public static String unavailableReason() {
        return MODULE.unavailableReason();
    }

    /**
     * {@code group_norm(x, groups, weight, bias, eps)}, then SiLU if {@code silu}, on float32 input
     * (only once {@link #available}).
     */
    public static NDArray apply(
            NDArray x, int groups, NDArray weight, NDArray bias, float eps, boolean silu) {
        return TorchScriptOps.call(
                MODULE.get(), x, (long) groups, weight, bias, (double) eps, silu);
    }
}
