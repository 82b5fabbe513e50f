package sdbatch.pipeline.models.kernels;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import java.util.function.Supplier;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.compute.CpuFeatures;
import sdbatch.pipeline.weights.DerivedCache;

/**
 * bfloat16 arithmetic for convolutions, linear layers and self-attention while every DJL array
 * stays float32: each call casts its input to bfloat16 inside libtorch, runs the op there (oneDNN's
 * AMX/AVX-512-BF16 kernels on CPUs that have them) and casts the result back, all in one {@link
 * TorchScriptOps} module call. DJL 0.36 aborts the JVM on any bfloat16 NDArray, so bfloat16 tensors
 * never reach it: activations live and die inside one call, and weights are held as {@link IValue}
 * handles ({@link Packed}).
 *
 * <p>On CPU each layer's weight is converted once, on its first bfloat16 call, and kept: 3×3
 * convolution and linear weights prepacked into oneDNN's blocked layout (eager libtorch would
 * otherwise cast and reorder the float32 weight on every call), 1×1 convolution weights cast to
 * bfloat16 (oneDNN's blocked 1×1 kernel was slower on plain activations) and applied as one matrix
 * product per image on the [C, H·W] activations, which are already in the layout the product needs
 * (no activation reorder: 320→320 at 64×64, batch 2, 4.9 → 3.2 ms). Measured on the development
 * machine (2 threads, AMX), per-call cast → prepacked: 1280→1280 3×3 at 8×8 batch 2 24.4 → 8.6 ms
 * (float32 22–24 ms), at 16×16 41.9 → 25.5 ms, 320→320 3×3 at 64×64 24.4 → 21.3 ms (float32 68 ms);
 * linear [2048×640]·[640×5120] 31.2 → 22.3 ms (float32 67 ms). The prepacked copies take 2 bytes
 * per weight, owned by the weight's manager. Elsewhere (GPU, or a libtorch without oneDNN's
 * prepacking ops) every call casts its weight, as before; those convolutions run channels-last,
 * because oneDNN's plain-layout bfloat16 convolution computed outputs that are not a multiple of 16
 * channels wrong on AVX-512-BF16 CPUs without AMX (AMD Zen 5). Both modules pass a known-answer
 * check against float32 when they load ({@link Bf16SelfCheck}), or are unavailable. The UNet's
 * transformers and resnet blocks run on these weights as one call each ({@link Bf16Fused}).
 *
 * <p>Accumulation is float32 inside oneDNN; inputs and weights are rounded to bfloat16 (8 bits of
 * mantissa). Normalisations, cross-attention, the scheduler and the VAE's output stay float32.
 *
 * <p>Off by default; a pipeline whose {@link ComputeOptions#bf16} is on ({@code --dtype bf16})
 * computes this way during its calls, other pipelines in the same JVM do not.
 */
public final class Bf16Compute {
    private static volatile String layerFailure;

    // Per-call casts (SdbatchBf16.torchscript beside this class), checked once against float32.
    private static final TorchScriptOps.Lazy MODULE =
            TorchScriptOps.Lazy.fromResource("SdbatchBf16", Bf16SelfCheck::perCall);

    // Weights converted once per layer (SdbatchBf16Packed.torchscript beside this class).
    private static final TorchScriptOps.Lazy PACKED =
            TorchScriptOps.Lazy.fromResource("SdbatchBf16Packed", Bf16Compute::probePacked);

    private Bf16Compute() {}

    /**
     * The prepacked-weights module, or null: loaded once and probed once ({@link #probePacked});
     * then every call casts, as before.
     */
    static PtSymbolBlock packedModule() {
        return PACKED.get();
    }

    /**
     * The known-answer check of prepacked convolutions and linear layers ({@link Bf16SelfCheck}); a
     * CPU without bfloat16 support in oneDNN (no AVX-512 or AVX-NE-CONVERT) loads the module but
     * fails on the first call.
     */
    private static void probePacked(PtSymbolBlock m, NDManager probe) {
        Bf16SelfCheck.packed(m, probe);
    }

    /** Whether the current {@link ComputeOptions} ask for bfloat16 compute. */
    public static boolean enabled() {
        return ComputeOptions.current().bf16();
    }

    /**
     * Whether weights are prepacked once per layer on CPU (default) or cast on every call: a
     * benchmarking knob of {@link ComputeOptions} (results agree to bfloat16 rounding).
     */
    public static boolean prepack() {
        return ComputeOptions.current().bf16Prepack();
    }

    /**
     * Whether the UNet's transformers and resnet blocks run as single calls on prepacked weights
     * ({@link Bf16Fused}; default) or layer by layer.
     */
    public static boolean fused() {
        return Bf16Fused.enabled();
    }

    /** Why the single-call blocks are unavailable, or null. */
    public static String fusedUnavailableReason() {
        return Bf16Fused.unavailableReason();
    }

    /** Whether attention over many keys runs in bfloat16 now: {@link #enabled} and the knob. */
    public static boolean attention() {
        ComputeOptions c = ComputeOptions.current();
        return c.bf16() && c.bf16Attention();
    }

    /**
     * Loads and checks the bfloat16 module now, and throws where bfloat16 compute cannot run
     * correctly here (the module failed to load, or its known-answer check against float32 failed
     * on this CPU): {@code --dtype bf16} is refused with the reason instead of computing in float32
     * or computing wrong images.
     */
    public static void requireAvailable() {
        if (MODULE.get() == null) {
            throw new IllegalStateException(
                    "--dtype bf16 is unavailable on this machine ("
                            + CpuFeatures.current().describe()
                            + "): "
                            + MODULE.unavailableReason());
        }
    }

    /** Why the module could not be loaded, or null. */
    public static String unavailableReason() {
        return MODULE.unavailableReason();
    }

    /**
     * Why prepacked bfloat16 weights are not available (then every call casts), or why the last
     * layer that could not be packed failed (that layer casts per call), or null.
     */
    public static String prepackUnavailableReason() {
        String r = PACKED.unavailableReason();
        return r != null ? r : layerFailure;
    }

    /**
     * Whether bfloat16 compute applies to this float32 input (the layers and blocks ask before
     * taking their bfloat16 paths).
     */
    public static boolean usable(NDArray x) {
        return enabled()
                && x.getDataType() == DataType.FLOAT32
                && x.getManager() instanceof PtNDManager
                && MODULE.get() != null;
    }

    /**
     * One layer's bfloat16 weight (and bias) as libtorch tensors DJL never sees, and which method
     * of the prepacked module takes them. Attached to the float32 weight's manager, which closes it
     * with the model. Opaque outside this package: layers hand it back to the calls below.
     */
    public static final class Packed implements AutoCloseable {
        private final String method;
        private final IValue weight;
        private final IValue bias;
        private NDManager owner;
        private String uid;

        private Packed(String method, IValue weight, IValue bias) {
            this.method = method;
            this.weight = weight;
            this.bias = bias;
        }

        IValue weight() {
            return weight;
        }

        /** The bfloat16 bias, or null. */
        IValue bias() {
            return bias;
        }

        /** Whether the libtorch tensors are freed (the weight's manager was closed). */
        public boolean released() {
            return weight.isReleased();
        }

        @Override
        public void close() {
            weight.close();
            if (bias != null) {
                bias.close();
            }
        }

        /** Frees the tensors now and takes them off the manager that would have freed them. */
        void release() {
            if (owner != null && owner.isOpen()) {
                owner.detachInternal(uid);
            }
            close();
        }
    }

    /**
     * A layer's {@link Packed} weights, made on its first bfloat16 call on CPU and kept; empty
     * (null) where they cannot be made, and then never tried again. Each layer or block that packs
     * weights holds one per packed form.
     */
    public static final class Slot implements DerivedCache {
        private volatile Packed packed;
        private volatile boolean unavailable;

        /**
         * Frees the packed weights (their float32 source changed in place: a LoRA merge); the next
         * bfloat16 call packs them again. The caller makes sure no call is using them (the pipeline
         * merges only while no batch runs).
         */
        @Override
        public synchronized void drop() {
            Packed p = packed;
            packed = null;
            unavailable = false;
            if (p != null) {
                p.release();
            }
        }

        /** The packed weights made so far, or null. */
        public Packed current() {
            return packed;
        }

        /**
         * The packed weights, made by {@code make} on the first call on CPU with prepacking on
         * (then kept); null where they cannot be made or prepacking is off.
         */
        public Packed get(NDArray x, Supplier<Packed> make) {
            if (!prepack()) {
                return null;
            }
            Packed p = packed;
            if (p != null || unavailable) {
                return p;
            }
            if (!Device.Type.CPU.equals(x.getDevice().getDeviceType()) || packedModule() == null) {
                return null;
            }
            synchronized (this) {
                if (packed == null && !unavailable) {
                    try {
                        packed = make.get();
                    } catch (RuntimeException e) {
                        // This layer only (an unusual shape): it casts per call from now on.
                        layerFailure = e.toString();
                    }
                    unavailable = packed == null;
                }
                return packed;
            }
        }
    }

    /** Prepacked weights for a convolution first called with input shape {@code input}. */
    public static Packed packConv(
            NDArray weight, NDArray bias, int stride, int padding, Shape input) {
        Shape k = weight.getShape();
        boolean pointwise = k.get(2) == 1 && k.get(3) == 1;
        IValue w =
                pointwise
                        ? TorchScriptOps.run(PACKED.get(), "cast", weight)
                        : TorchScriptOps.run(
                                PACKED.get(),
                                "pack_conv",
                                weight,
                                (long) padding,
                                (long) stride,
                                input.get(0),
                                input.get(1),
                                input.get(2),
                                input.get(3));
        return attach(weight.getManager(), pointwise ? "conv_cast" : "conv_packed", w, bias);
    }

    /** Prepacked weights for a linear layer first called with {@code rows} rows of input. */
    public static Packed packLinear(NDArray weight, NDArray bias, long rows) {
        IValue w = TorchScriptOps.run(PACKED.get(), "pack_linear", weight, rows);
        return attach(
                weight.getManager(),
                bias == null ? "linear_packed_nobias" : "linear_packed",
                w,
                bias);
    }

    /**
     * Casts the bias (if any), and hands both to {@code manager}, which closes them with itself.
     */
    private static Packed attach(NDManager manager, String method, IValue weight, NDArray bias) {
        IValue b;
        try {
            b = bias == null ? null : TorchScriptOps.run(PACKED.get(), "cast", bias);
        } catch (RuntimeException e) {
            weight.close();
            throw e;
        }
        Packed p = new Packed(method, weight, b);
        p.owner = manager;
        p.uid = NDManager.nextUid();
        manager.attachInternal(p.uid, p);
        return p;
    }

    /** {@code x @ weight.T + bias} in bfloat16, as float32; {@code bias} may be null. */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return bias == null
                ? TorchScriptOps.call(MODULE.get(), 2L, x, weight, x, 0L, 0L)
                : TorchScriptOps.call(MODULE.get(), 0L, x, weight, bias, 0L, 0L);
    }

    /** As {@link #linear(NDArray, NDArray, NDArray)} with prepacked weights. */
    public static NDArray linear(Packed p, NDArray x) {
        return p.bias == null
                ? TorchScriptOps.callMethod(PACKED.get(), p.method, x, p.weight)
                : TorchScriptOps.callMethod(PACKED.get(), p.method, x, p.weight, p.bias);
    }

    /**
     * diffusers' GEGLU feed-forward ({@code net.2(h · gelu(gate))} with {@code h, gate =
     * net.0.proj(x)} split in halves) in one call on prepacked weights: the [tokens, 2·inner]
     * projection and its GELU stay bfloat16 inside libtorch instead of making three float32 passes
     * through DJL (at 64×64 latents that tensor is [2, 4096, 2560]).
     */
    public static NDArray gegluFeedForward(Packed proj, Packed out, NDArray x) {
        return TorchScriptOps.callMethod(
                PACKED.get(),
                "geglu_feed_forward",
                x,
                proj.weight,
                proj.bias,
                out.weight,
                out.bias);
    }

    /** {@code conv2d} with square stride and zero padding in bfloat16, as float32. */
    public static NDArray conv2d(NDArray x, NDArray weight, NDArray bias, int stride, int padding) {
        return TorchScriptOps.call(
                MODULE.get(), 1L, x, weight, bias, (long) stride, (long) padding);
    }

    /** As {@link #conv2d(NDArray, NDArray, NDArray, int, int)} with prepacked weights. */
    public static NDArray conv2d(Packed p, NDArray x, int stride, int padding) {
        return TorchScriptOps.callMethod(
                PACKED.get(), p.method, x, p.weight, p.bias, (long) padding, (long) stride);
    }
}
