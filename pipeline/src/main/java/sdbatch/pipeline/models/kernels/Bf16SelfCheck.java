package sdbatch.pipeline.models.kernels;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import java.util.SplittableRandom;
import sdbatch.pipeline.compute.CpuFeatures;

/**
 * Known-answer checks of libtorch's bfloat16 kernels on this CPU, run once when a bfloat16 module
 * loads: a bfloat16 convolution or product must equal, to float32 accumulation order and the
 * output's rounding to bfloat16, the float32 one on the same inputs rounded to bfloat16 (rounded
 * here, in Java). A module whose check fails is unavailable, and {@code --dtype bf16} is refused
 * with the reason, instead of computing wrong images.
 *
 * <p>Why: on AMD Zen 5 (AVX-512-BF16, no AMX) libtorch's oneDNN computed plain-layout (NCHW)
 * bfloat16 convolutions wrong whenever the output channels are not a multiple of 16 — relative
 * errors 0.2–0.35 for 3, 4, 8 and 24 outputs, exact for 16, 32, 48, 128, 320 (pytorch/pytorch issue
 * 163347 reports the same on AMD). A UNet's {@code conv_out} (4 outputs) and a VAE's (3) are such
 * layers. The per-call path therefore runs its convolutions channels-last, which oneDNN gets right
 * on every CPU measured; this check keeps a kernel like that from going unnoticed on a CPU nobody
 * measured.
 */
final class Bf16SelfCheck {
    /**
     * Largest relative error (to the reference's largest magnitude) accepted. The output's rounding
     * to bfloat16 costs at most 2^-9 of each value, accumulation order ~1e-6; the wrong kernel
     * above was off by 0.2 and more.
     */
    static final double BOUND = 1e-2;

    /** Convolution cases {in, out, kernel, stride, padding}: outputs 3, 4, 24 are not 16·k. */
    private static final int[][] CONVOLUTIONS = {
        {8, 4, 3, 1, 1}, {16, 24, 3, 1, 1}, {16, 3, 3, 2, 1}, {16, 32, 3, 1, 1}
    };

    private Bf16SelfCheck() {}

    /** Checks the per-call module ({@code forward(op, x, w, b, stride, padding)}). */
    static void perCall(PtSymbolBlock module, NDManager manager) {
        SplittableRandom random = new SplittableRandom(20261204);
        for (int[] c : CONVOLUTIONS) {
            Case k = Case.convolution(manager, random, c);
            NDArray got = TorchScriptOps.call(module, 1L, k.x, k.w, k.b, (long) c[3], (long) c[4]);
            check("convolution " + k.name, k.reference(), got);
        }
        Case l = Case.linear(manager, random, 7, 16, 20);
        check("linear", l.reference(), TorchScriptOps.call(module, 0L, l.x, l.w, l.b, 0L, 0L));
    }

    /** Checks the prepacked module: packed convolutions and linear layers. */
    static void packed(PtSymbolBlock module, NDManager manager) {
        SplittableRandom random = new SplittableRandom(20261205);
        for (int[] c : CONVOLUTIONS) {
            Case k = Case.convolution(manager, random, c);
            Shape s = k.x.getShape();
            IValue w =
                    TorchScriptOps.run(
                            module,
                            "pack_conv",
                            k.w,
                            (long) c[4],
                            (long) c[3],
                            s.get(0),
                            s.get(1),
                            s.get(2),
                            s.get(3));
            IValue b = TorchScriptOps.run(module, "cast", k.b);
            try {
                NDArray got =
                        TorchScriptOps.callMethod(
                                module, "conv_packed", k.x, w, b, (long) c[4], (long) c[3]);
                check("prepacked convolution " + k.name, k.reference(), got);
            } finally {
                w.close();
                b.close();
            }
        }
        Case l = Case.linear(manager, random, 7, 16, 20);
        IValue w = TorchScriptOps.run(module, "pack_linear", l.w, 7L);
        IValue b = TorchScriptOps.run(module, "cast", l.b);
        try {
            check(
                    "prepacked linear",
                    l.reference(),
                    TorchScriptOps.callMethod(module, "linear_packed", l.x, w, b));
        } finally {
            w.close();
            b.close();
        }
    }

    /** Throws where {@code got} is further than {@link #BOUND} from {@code want}. */
    static void check(String what, NDArray want, NDArray got) {
        double e = relativeError(want, got);
        if (!(e <= BOUND)) {
            throw new IllegalStateException(
                    String.format(
                            "bfloat16 %s disagrees with float32 on this CPU (%s): relative error"
                                    + " %.3g > %.0e; libtorch's bfloat16 kernels are wrong here",
                            what, CpuFeatures.current().describe(), e, BOUND));
        }
    }

    /** max |want − got| / max |want|; NaN where the shapes differ or anything is not finite. */
    static double relativeError(NDArray want, NDArray got) {
        if (!want.getShape().equals(got.getShape())) {
            return Double.NaN;
        }
        float[] a = want.toFloatArray();
        float[] b = got.toFloatArray();
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs((double) a[i] - b[i]));
            scale = Math.max(scale, Math.abs(a[i]));
        }
        return diff / scale;
    }

    /** The nearest bfloat16 (round to nearest, ties to even), as a float. */
    static float roundToBfloat16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = bits + 0x7FFF + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(rounded & 0xFFFF0000);
    }

    /** Inputs of one case, and its float32 reference on the bfloat16-rounded inputs. */
    private record Case(String name, NDArray x, NDArray w, NDArray b, int stride, int padding) {

        static Case convolution(NDManager m, SplittableRandom r, int[] c) {
            return new Case(
                    c[0] + "→" + c[1] + " " + c[2] + "×" + c[2] + " stride " + c[3],
                    random(m, r, new Shape(2, c[0], 9, 9)),
                    random(m, r, new Shape(c[1], c[0], c[2], c[2])),
                    random(m, r, new Shape(c[1])),
                    c[3],
                    c[4]);
        }

        static Case linear(NDManager m, SplittableRandom r, int rows, int in, int out) {
            return new Case(
                    in + "→" + out,
                    random(m, r, new Shape(rows, in)),
                    random(m, r, new Shape(out, in)),
                    random(m, r, new Shape(out)),
                    0,
                    -1);
        }

        NDArray reference() {
            NDArray xr = rounded(x);
            NDArray wr = rounded(w);
            NDArray br = rounded(b);
            if (padding < 0) {
                return xr.matMul(wr.transpose()).add(br);
            }
            return ai.djl.nn.convolutional.Conv2d.conv2d(
                            xr,
                            wr,
                            br,
                            new Shape(stride, stride),
                            new Shape(padding, padding),
                            new Shape(1, 1),
                            1)
                    .singletonOrThrow();
        }

        private static NDArray random(NDManager m, SplittableRandom r, Shape shape) {
            float[] v = new float[Math.toIntExact(shape.size())];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextDouble() * 2 - 1);
            }
            return m.create(v, shape);
        }

        private static NDArray rounded(NDArray a) {
            float[] v = a.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] = roundToBfloat16(v[i]);
            }
            return a.getManager().create(v, a.getShape());
        }
    }
}
