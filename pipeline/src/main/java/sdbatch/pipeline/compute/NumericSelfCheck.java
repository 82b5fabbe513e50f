package sdbatch.pipeline.compute;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * The numeric self-check of {@code sdbatch doctor}: that this machine's libtorch computes what
 * sdbatch's tests assert, in a few seconds, without the reference data.
 *
 * <ol>
 *   <li>float32 convolution and matrix product against a float64 reference computed here, in Java
 *       (relative error under {@link #FP32_BOUND});
 *   <li>the bfloat16 modules' known-answer checks ({@link Bf16Compute#requireAvailable});
 *   <li>a tiny random-weight model's images: float32 twice (bit-identical), and bf16 on both of its
 *       paths (prepacked and per-call weights) within {@link #BF16_MAX_LEVELS} levels and a mean
 *       under {@link #BF16_MEAN_LEVELS} of float32 — the bound the README states and the golden
 *       tests enforce.
 * </ol>
 */
public final class NumericSelfCheck {
    /** float32 against float64: accumulation error of a few hundred products. */
    public static final double FP32_BOUND = 1e-5;

    /** bf16 image against float32: largest difference in 8-bit levels. */
    public static final int BF16_MAX_LEVELS = 16;

    /** bf16 image against float32: mean difference in 8-bit levels. */
    public static final double BF16_MEAN_LEVELS = 2.0;

    /** One check's outcome. */
    public record Result(String name, boolean ok, String detail) {}

    private NumericSelfCheck() {}

    /** Runs every check; {@code scratch} holds the tiny model (written there if missing). */
    public static List<Result> run(Path scratch) {
        List<Result> results = new ArrayList<>();
        results.add(float32Kernels());
        Result bf16 = bf16Kernels();
        results.add(bf16);
        results.add(images(scratch, bf16.ok()));
        return results;
    }

    /** libtorch's float32 convolution and product against float64 sums done here. */
    static Result float32Kernels() {
        try (NDManager m = NDManager.newBaseManager(ai.djl.Device.cpu(), "PyTorch")) {
            SplittableRandom r = new SplittableRandom(7);
            int n = 2, c = 8, h = 7, w = 7, o = 5;
            float[] x = random(r, n * c * h * w);
            float[] k = random(r, o * c * 9);
            NDArray got =
                    ai.djl.nn.convolutional.Conv2d.conv2d(
                                    m.create(x, new Shape(n, c, h, w)),
                                    m.create(k, new Shape(o, c, 3, 3)),
                                    null,
                                    new Shape(1, 1),
                                    new Shape(1, 1),
                                    new Shape(1, 1),
                                    1)
                            .singletonOrThrow();
            double[] want = new double[n * o * h * w];
            for (int b = 0; b < n; b++) {
                for (int oc = 0; oc < o; oc++) {
                    for (int y = 0; y < h; y++) {
                        for (int xx = 0; xx < w; xx++) {
                            double s = 0;
                            for (int ic = 0; ic < c; ic++) {
                                for (int ky = 0; ky < 3; ky++) {
                                    for (int kx = 0; kx < 3; kx++) {
                                        int iy = y + ky - 1;
                                        int ix = xx + kx - 1;
                                        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                            s +=
                                                    (double) x[((b * c + ic) * h + iy) * w + ix]
                                                            * k[((oc * c + ic) * 3 + ky) * 3 + kx];
                                        }
                                    }
                                }
                            }
                            want[((b * o + oc) * h + y) * w + xx] = s;
                        }
                    }
                }
            }
            double conv = relative(want, got.toFloatArray());
            int rows = 6, inner = 40, cols = 9;
            float[] a = random(r, rows * inner);
            float[] bm = random(r, inner * cols);
            float[] prod =
                    m.create(a, new Shape(rows, inner))
                            .matMul(m.create(bm, new Shape(inner, cols)))
                            .toFloatArray();
            double[] wantProd = new double[rows * cols];
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double s = 0;
                    for (int t = 0; t < inner; t++) {
                        s += (double) a[i * inner + t] * bm[t * cols + j];
                    }
                    wantProd[i * cols + j] = s;
                }
            }
            double matmul = relative(wantProd, prod);
            boolean ok = conv < FP32_BOUND && matmul < FP32_BOUND;
            return new Result(
                    "float32 kernels",
                    ok,
                    String.format(
                            "convolution %.1e, product %.1e relative to float64 (bound %.0e)",
                            conv, matmul, FP32_BOUND));
        } catch (RuntimeException e) {
            return new Result("float32 kernels", false, e.toString());
        }
    }

    /** The bfloat16 modules' known-answer checks. */
    static Result bf16Kernels() {
        try {
            Bf16Compute.requireAvailable();
            String prepack = Bf16Compute.prepackUnavailableReason();
            return new Result(
                    "bf16 kernels",
                    true,
                    "agree with float32 ("
                            + CpuFeatures.current().bf16Kernels()
                            + "); prepacked weights "
                            + (prepack == null ? "available" : "unavailable: " + prepack));
        } catch (RuntimeException e) {
            return new Result("bf16 kernels", false, e.getMessage());
        }
    }

    /** Tiny-model images: float32 repeatable; bf16 within the documented distance. */
    static Result images(Path scratch, boolean bf16) {
        try {
            Path model = scratch.resolve("sdbatch-doctor-tiny-sd1");
            if (!Files.isRegularFile(model.resolve("model_index.json"))) {
                TinyModels.write(model, TinyModels.Variant.SD1, 0);
            }
            List<ImageRequest> requests =
                    List.of(
                            ImageRequest.of("a lighthouse at dusk", 0)
                                    .withSteps(4)
                                    .withScheduler("euler", null),
                            ImageRequest.of("a lighthouse at dusk", 1)
                                    .withSteps(4)
                                    .withScheduler("euler", null));
            try (StableDiffusionPipeline p =
                    StableDiffusionPipeline.load(model, PipelineOptions.defaults())) {
                List<GeneratedImage> f = p.generate(requests);
                List<GeneratedImage> again = p.generate(requests);
                for (int i = 0; i < f.size(); i++) {
                    if (!java.util.Arrays.equals(f.get(i).rgb(), again.get(i).rgb())) {
                        return new Result(
                                "images", false, "float32 images differ between two runs");
                    }
                }
                if (!bf16) {
                    return new Result(
                            "images", true, "float32 repeatable; bf16 skipped (unavailable)");
                }
                StringBuilder detail = new StringBuilder("float32 repeatable; bf16 vs float32");
                boolean ok = true;
                for (boolean prepacked : new boolean[] {true, false}) {
                    // Same weights, other compute options: a second pipeline over the folder.
                    PipelineOptions o =
                            PipelineOptions.defaults()
                                    .withCompute(
                                            ComputeOptions.defaults()
                                                    .withBf16(true)
                                                    .withBf16Prepack(prepacked));
                    List<GeneratedImage> b;
                    try (StableDiffusionPipeline q = StableDiffusionPipeline.load(model, o)) {
                        b = q.generate(requests);
                    }
                    int max = 0;
                    double mean = 0;
                    for (int i = 0; i < f.size(); i++) {
                        byte[] x = f.get(i).rgb();
                        byte[] y = b.get(i).rgb();
                        long sum = 0;
                        for (int j = 0; j < x.length; j++) {
                            int d = Math.abs((x[j] & 255) - (y[j] & 255));
                            max = Math.max(max, d);
                            sum += d;
                        }
                        mean = Math.max(mean, (double) sum / x.length);
                    }
                    ok &= max <= BF16_MAX_LEVELS && mean < BF16_MEAN_LEVELS;
                    detail.append(
                            String.format(
                                    "; %s max %d, mean %.2f levels",
                                    prepacked ? "prepacked" : "per-call", max, mean));
                }
                detail.append(
                        String.format(" (bound %d, %.0f)", BF16_MAX_LEVELS, BF16_MEAN_LEVELS));
                return new Result("images", ok, detail.toString());
            }
        } catch (IOException | RuntimeException e) {
            return new Result("images", false, e.toString());
        }
    }

    /** libtorch's version and where it was loaded from. */
    public static String libtorch() {
        Engine e = Engine.getEngine("PyTorch");
        return "PyTorch "
                + e.getVersion()
                + " (DJL "
                + Engine.getDjlVersion()
                + ", "
                + ai.djl.pytorch.jni.LibUtils.getLibtorchPath()
                + "), GPUs visible: "
                + e.getGpuCount();
    }

    private static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return v;
    }

    private static double relative(double[] want, float[] got) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < want.length; i++) {
            diff = Math.max(diff, Math.abs(want[i] - got[i]));
            scale = Math.max(scale, Math.abs(want[i]));
        }
        return diff / scale;
    }
}
