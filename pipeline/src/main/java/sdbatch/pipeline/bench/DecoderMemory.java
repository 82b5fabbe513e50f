package sdbatch.pipeline.bench;

import static sdbatch.pipeline.bench.BenchRun.round;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.AutoencoderKL;

/**
 * {@code sdbatch bench --memory DIR --decode-only}: the VAE decoder alone, loaded from {@code
 * DIR/vae}, decoding one image of {@code --size} from seeded random latents, twice: the peak
 * resident memory each decode adds to what was resident before it (and what stays resident after),
 * and its seconds. The decode is where one large image's peak lies (the last levels' activations at
 * 1024² are 0.5-1 GB each in float32), and this isolates it from the UNet's weights.
 */
final class DecoderMemory {
    private static final int RUNS = 2;

    private DecoderMemory() {}

    static JsonObject measure(Path dir, String dtype, int size, PrintStream out)
            throws IOException {
        JsonObject r = new JsonObject();
        r.addProperty("model", dir.toAbsolutePath().toString());
        r.addProperty("component", "vae (decoder only)");
        r.addProperty("dtype", dtype);
        DataType weights = dtype.equals("fp16") ? DataType.FLOAT16 : DataType.FLOAT32;
        double baseline = MachineFacts.procStatusMb("VmRSS");
        r.addProperty("baseline_rss_mb", baseline);
        try (NDManager m = NDManager.newBaseManager();
                ComputeOptions.Scope compute =
                        ComputeOptions.defaults().withBf16(dtype.equals("bf16")).enter()) {
            AutoencoderKL vae = AutoencoderKL.load(dir.resolve("vae"), m, weights);
            int factor = vae.config().vaeScaleFactor();
            if (size % factor != 0) {
                throw new IllegalArgumentException(
                        "--size must be a multiple of the VAE's factor " + factor);
            }
            r.addProperty("rss_after_load_mb", MachineFacts.procStatusMb("VmRSS"));
            r.addProperty("width", size);
            r.addProperty("height", size);
            r.addProperty("strip_elements", ComputeOptions.current().stripElements());
            JsonArray runs = new JsonArray();
            for (int run = 0; run < RUNS; run++) {
                try (NDManager step = m.newSubManager()) {
                    step.getEngine().setRandomSeed(run);
                    NDArray latents =
                            step.randomNormal(
                                    new Shape(
                                            1,
                                            vae.config().latentChannels(),
                                            size / factor,
                                            size / factor),
                                    DataType.FLOAT32);
                    double before = MachineFacts.procStatusMb("VmRSS");
                    ModelMemory.resetPeak();
                    long t0 = System.nanoTime();
                    NDArray image = vae.decode(latents);
                    image.toFloatArray(); // the result read back, as the pipeline does
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double peak = MachineFacts.procStatusMb("VmHWM");
                    image.close();
                    double after = MachineFacts.procStatusMb("VmRSS");
                    JsonObject one = new JsonObject();
                    one.addProperty("seconds", round(seconds, 2));
                    one.addProperty("rss_before_mb", before);
                    one.addProperty("peak_over_before_mb", round(peak - before, 1));
                    one.addProperty("resident_after_over_before_mb", round(after - before, 1));
                    runs.add(one);
                    out.printf(
                            Locale.ROOT,
                            "decode %d of %dx%d (%s): %.1f s, peak +%.0f MB over the %.0f MB"
                                    + " resident before it, +%.0f MB resident after%n",
                            run + 1,
                            size,
                            size,
                            dtype,
                            seconds,
                            peak - before,
                            before,
                            after - before);
                }
            }
            r.add("decodes", runs);
        }
        return r;
    }
}
