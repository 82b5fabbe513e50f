package sdbatch.pipeline.models.blocks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;

/**
 * bfloat16 arithmetic for convolutions and linear layers while every DJL array stays float32: each
 * call casts its input, weight and bias to bfloat16 inside libtorch, runs the op there (oneDNN's
 * AMX/AVX-512-BF16 kernels on CPUs that have them) and casts the result back, all in one {@link
 * TorchScriptOps} module call. DJL 0.36 aborts the JVM on any bfloat16 NDArray, so the bfloat16
 * tensors must never reach it: here they live and die inside that call.
 *
 * <p>Accumulation is float32 inside oneDNN; inputs and weights are rounded to bfloat16 (8 bits of
 * mantissa). Normalisations, softmax/attention, the scheduler and the VAE's output stay float32.
 * Measured on the development machine (2 threads, AMX): a 320→320 3×3 convolution at 64×64 73 → 26
 * ms, a [512×1280]·[1280×10240] linear 80 → 28 ms, relative error about 4e-3 (BENCHMARKS.md).
 *
 * <p>Process-wide and off by default ({@link #setEnabled}); {@code --dtype bf16} turns it on.
 */
public final class Bf16Compute {
    private static volatile boolean enabled;
    // ScalarType numbers, as serialized TorchScript writes dtypes: 15 bfloat16, 6 float32.
    private static final TorchScriptOps.Lazy MODULE =
            new TorchScriptOps.Lazy(
                    "SdbatchBf16",
                    String.join(
                            "\n",
                            "  def forward(self: __torch__.SdbatchBf16,",
                            "    op: int,",
                            "    x: Tensor,",
                            "    w: Tensor,",
                            "    b: Tensor,",
                            "    stride: int,",
                            "    padding: int) -> Tensor:",
                            "    xb = torch.to(x, 15)",
                            "    wb = torch.to(w, 15)",
                            "    if op == 0:",
                            "      y = torch.linear(xb, wb, torch.to(b, 15))",
                            "    elif op == 2:",
                            "      y = torch.linear(xb, wb)",
                            "    else:",
                            "      y = torch.conv2d(xb, wb, torch.to(b, 15), [stride, stride],"
                                    + " [padding, padding])",
                            "    return torch.to(y, 6)"));

    private Bf16Compute() {}

    /** Turns bfloat16 compute for convolutions and linear layers on or off, process-wide. */
    public static void setEnabled(boolean on) {
        enabled = on;
    }

    public static boolean enabled() {
        return enabled;
    }

    /** Why the module could not be loaded, or null. */
    public static String unavailableReason() {
        return MODULE.unavailableReason();
    }

    /** Whether {@link #linear}/{@link #conv2d} apply to this float32 input. */
    static boolean usable(NDArray x) {
        return enabled
                && x.getDataType() == DataType.FLOAT32
                && x.getManager() instanceof PtNDManager
                && module() != null;
    }

    /** {@code x @ weight.T + bias} in bfloat16, as float32; {@code bias} may be null. */
    static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return bias == null
                ? TorchScriptOps.call(module(), 2L, x, weight, x, 0L, 0L)
                : TorchScriptOps.call(module(), 0L, x, weight, bias, 0L, 0L);
    }

    /** {@code conv2d} with square stride and zero padding in bfloat16, as float32. */
    static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding) {
        return TorchScriptOps.call(module(), 1L, x, weight, bias, (long) stride, (long) padding);
    }

    private static PtSymbolBlock module() {
        return MODULE.get();
    }
}
