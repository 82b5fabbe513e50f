package sdbatch.pipeline.models.layers;

import ai.djl.ndarray.NDArray;

/** The activations of the UNet and VAE (diffusers {@code get_activation}). */
public final class Activations {
    private Activations() {}

    /** {@code silu(x) = x · sigmoid(x)} ({@code act_fn: "silu"}). */
    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /** Exact (erf) GELU, {@code torch.nn.functional.gelu} with {@code approximate="none"}. */
    public static NDArray gelu(NDArray x) {
        return x.getNDArrayInternal().gelu();
    }
}
