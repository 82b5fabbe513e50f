package sdbatch.pipeline.bench;

import static sdbatch.pipeline.bench.BenchRun.round;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.compute.ComputeOptions;

/**
 * {@code sdbatch bench --memory DIR}: the peak resident memory of loading one model folder, and of
 * generating one image with it, in this process (run it once per configuration: a peak is a
 * process's). The peak is reset ({@code /proc/self/clear_refs} 5) after the engine has started, so
 * each figure is what loading or generating added to a running JVM with libtorch, compared with the
 * size of the weights the folder holds for the components loaded, at the dtype they are kept in.
 *
 * <p>Flags: {@code --dtype fp32|fp16|bf16} (bf16: float32 weights, bfloat16 arithmetic), {@code
 * --without-t5} (SD3: no {@code text_encoder_3}), {@code --size N} (the image's side; default the
 * folder's), {@code --steps N} (0: load only; default 1), {@code --out FILE} (the JSON report;
 * default {@code memory.json}), {@code --decode-only} (the VAE decoder alone: {@link
 * DecoderMemory}; --size default 512).
 */
public final class ModelMemory {
    /** What {@code --help} prints. */
    public static final String USAGE =
            "usage: sdbatch bench --memory DIR [--dtype fp32|fp16|bf16] [--without-t5] [--size N]"
                    + " [--steps N] [--decode-only] [--out memory.json]";

    private ModelMemory() {}

    /**
     * Measures with {@code args} (the first being {@code --memory}).
     *
     * @return 0 on success, 2 for bad arguments, 1 if the measurement failed
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Path dir = null;
        String dtype = "fp32";
        boolean withoutT5 = false;
        boolean decodeOnly = false;
        Integer size = null;
        int steps = 1;
        Path report = Path.of("memory.json");
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--memory" -> dir = Path.of(value(args, ++i, "--memory"));
                    case "--dtype" -> dtype = value(args, ++i, "--dtype");
                    case "--without-t5" -> withoutT5 = true;
                    case "--decode-only" -> decodeOnly = true;
                    case "--size" -> size = Integer.parseInt(value(args, ++i, "--size"));
                    case "--steps" -> steps = Integer.parseInt(value(args, ++i, "--steps"));
                    case "--out" -> report = Path.of(value(args, ++i, "--out"));
                    default -> throw new IllegalArgumentException("unknown flag " + args[i]);
                }
            }
            if (dir == null || !Files.isRegularFile(dir.resolve("model_index.json"))) {
                throw new IllegalArgumentException(
                        "--memory needs a diffusers model folder (with model_index.json)");
            }
            if (!List.of("fp32", "fp16", "bf16").contains(dtype)) {
                throw new IllegalArgumentException("--dtype must be fp32, fp16 or bf16");
            }
            if (steps < 0 || (size != null && size < 8)) {
                throw new IllegalArgumentException("--steps must be >= 0 and --size >= 8");
            }
        } catch (IllegalArgumentException e) {
            err.println("sdbatch bench: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try {
            JsonObject r =
                    decodeOnly
                            ? DecoderMemory.measure(dir, dtype, size != null ? size : 512, out)
                            : measure(dir, dtype, withoutT5, size, steps, out);
            Files.writeString(report, new GsonBuilder().setPrettyPrinting().create().toJson(r));
            out.println("report written to " + report.toAbsolutePath());
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("sdbatch bench: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    private static JsonObject measure(
            Path dir, String dtype, boolean withoutT5, Integer size, int steps, PrintStream out)
            throws IOException {
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager m = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            // Starts libtorch and its thread pools before the baseline is read.
            m.ones(new Shape(64, 64)).matMul(m.ones(new Shape(64, 64)));
        }
        JsonObject r = new JsonObject();
        r.addProperty("model", dir.toAbsolutePath().toString());
        r.addProperty("dtype", dtype);
        r.addProperty("without_t5", withoutT5);
        long fileBytes = 0;
        try (var components = Files.list(dir)) {
            for (Path c : components.filter(Files::isDirectory).toList()) {
                if (withoutT5 && c.getFileName().toString().equals("text_encoder_3")) {
                    continue;
                }
                fileBytes += BenchModels.safetensorsBytes(c);
            }
        }
        // The weights as kept: float16 for fp16; float32 otherwise (bf16 computes in bfloat16 but
        // DJL 0.36 keeps no bfloat16 arrays).
        double keptBytes = fileBytes * (dtype.equals("fp16") ? 0.5 : 1.0);
        r.addProperty("weights_file_mb", round(fileBytes / 1048576.0, 1));
        r.addProperty("weights_kept_mb", round(keptBytes / 1048576.0, 1));
        double baseline = MachineFacts.procStatusMb("VmRSS");
        r.addProperty("baseline_rss_mb", baseline);
        boolean reset = resetPeak();
        r.addProperty("peak_reset", reset);
        PipelineOptions po =
                PipelineOptions.defaults()
                        .withDtype(dtype.equals("fp16") ? DataType.FLOAT16 : DataType.FLOAT32)
                        .withCompute(ComputeOptions.defaults().withBf16(dtype.equals("bf16")))
                        .withoutT5(withoutT5)
                        .withMaxBatchSize(2);
        long t0 = System.nanoTime();
        try (StableDiffusionPipeline pipe = StableDiffusionPipeline.load(dir, po)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            double loadPeak = MachineFacts.procStatusMb("VmHWM");
            double loaded = MachineFacts.procStatusMb("VmRSS");
            r.addProperty("load_seconds", round(loadSeconds, 2));
            r.addProperty("load_peak_rss_mb", loadPeak);
            r.addProperty("rss_after_load_mb", loaded);
            r.addProperty(
                    "load_peak_over_weights",
                    round((loadPeak - baseline) / (keptBytes / 1048576.0), 3));
            out.printf(
                    Locale.ROOT,
                    "%s %s%s: weights %.0f MB as kept; baseline RSS %.0f MB; load %.1f s, peak %.0f"
                            + " MB (+%.0f MB = %.3f x the weights), %.0f MB after%n",
                    dir.getFileName(),
                    dtype,
                    withoutT5 ? " without T5" : "",
                    keptBytes / 1048576.0,
                    baseline,
                    loadSeconds,
                    loadPeak,
                    loadPeak - baseline,
                    (loadPeak - baseline) / (keptBytes / 1048576.0),
                    loaded);
            if (steps > 0) {
                int side = size != null ? size : pipe.defaultSize();
                ImageRequest request =
                        ImageRequest.of("a photo of an astronaut riding a horse", 1)
                                .withSteps(steps)
                                .withSize(side, side);
                resetPeak();
                long g0 = System.nanoTime();
                // The peak of text encoding and the denoising loop is read after the last step,
                // and reset there, so that the peak after generate is the VAE decode's.
                double[] loopPeak = {Double.NaN};
                double[] rssAfterLoop = {Double.NaN};
                GeneratedImage image =
                        pipe.generate(
                                        List.of(request),
                                        (i, n, t) -> {
                                            if (i == n - 1) {
                                                loopPeak[0] = MachineFacts.procStatusMb("VmHWM");
                                                rssAfterLoop[0] =
                                                        MachineFacts.procStatusMb("VmRSS");
                                                resetPeak();
                                            }
                                            return true;
                                        })
                                .get(0);
                double seconds = (System.nanoTime() - g0) / 1e9;
                double decodePeak = MachineFacts.procStatusMb("VmHWM");
                double peak = Math.max(loopPeak[0], decodePeak);
                JsonObject g = new JsonObject();
                g.addProperty("width", image.width());
                g.addProperty("height", image.height());
                g.addProperty("steps", steps);
                g.addProperty("guidance", "classifier-free, batch 2");
                g.addProperty("seconds", round(seconds, 2));
                g.addProperty("text_encoding_s", round(image.timings().encodeSeconds(), 3));
                g.addProperty("denoising_loop_s", round(image.timings().loopSeconds(), 3));
                g.addProperty("vae_decode_s", round(image.timings().decodeSeconds(), 3));
                g.addProperty("peak_rss_mb", peak);
                g.addProperty("text_and_loop_peak_rss_mb", loopPeak[0]);
                g.addProperty("rss_after_loop_mb", rssAfterLoop[0]);
                g.addProperty("decode_peak_rss_mb", decodePeak);
                g.addProperty(
                        "peak_over_weights", round((peak - baseline) / (keptBytes / 1048576.0), 3));
                r.add("generate", g);
                out.printf(
                        Locale.ROOT,
                        "one %dx%d image, %d step(s): %.1f s (text %.2f, loop %.2f, decode %.2f);"
                                + " peak %.0f MB (+%.0f MB = %.3f x the weights; text and loop"
                                + " +%.0f MB, resident after the loop +%.0f MB, decode +%.0f MB)%n",
                        image.width(),
                        image.height(),
                        steps,
                        seconds,
                        image.timings().encodeSeconds(),
                        image.timings().loopSeconds(),
                        image.timings().decodeSeconds(),
                        peak,
                        peak - baseline,
                        (peak - baseline) / (keptBytes / 1048576.0),
                        loopPeak[0] - baseline,
                        rssAfterLoop[0] - baseline,
                        decodePeak - baseline);
            }
        }
        return r;
    }

    /**
     * Resets this process's peak resident size to its current one (Linux 4.0+), so that {@code
     * VmHWM} then measures what follows; false where the kernel does not allow it.
     */
    static boolean resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
