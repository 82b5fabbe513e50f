package sdbatch.pipeline.bench;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.pipeline.weights.RandomWeights;

/**
 * The models of {@code --models}: the diffusers folder each names (writing the tiny model where
 * asked) and its UNet, loaded with the load speed recorded in the report's {@code load}, or built
 * in memory for {@code sd15} and {@code sdxl} (SDXL 1.0 base's UNet shape, about 2.6 B parameters),
 * and SD3 medium's transformer (about 2.0 B parameters) for {@code sd3}.
 */
final class BenchModels {
    private BenchModels() {}

    /** The {@code --models} name of SD3 medium's transformer, built in memory. */
    static final String SD3 = "sd3";

    /** SD3 medium's transformer with random weights, built in memory. */
    static SD3Transformer2DModel sd3Transformer(BenchRun run, NDManager manager) {
        long t0 = System.nanoTime();
        SD3TransformerConfig config =
                SD3TransformerConfig.parse(
                        "SD3-medium-shaped transformer",
                        TinyModels.sd3MediumShapedTransformerConfigJson());
        SD3Transformer2DModel transformer =
                new SD3Transformer2DModel(config, new RandomWeights(7, manager, run.dtype));
        logBuilt(run, SD3 + " transformer", t0);
        return transformer;
    }

    /** Logs how long building {@code what} with random weights took since {@code t0}. */
    private static void logBuilt(BenchRun run, String what, long t0) {
        run.log.printf(
                Locale.ROOT,
                "built %s in memory in %.1f s%n",
                what,
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The diffusers folder of a model name, writing the tiny model if asked; null for sd15, sdxl
     * and sd3 (built in memory).
     */
    static Path folder(String model, Path tmp) throws IOException {
        switch (model) {
            case "sd15", "sdxl", SD3:
                return null;
            case "tiny":
                return TinyModels.write(tmp.resolve("tiny"), TinyModels.Variant.SD1, 0);
            default:
                Path p = Path.of(model);
                if (!Files.isRegularFile(p.resolve("unet/config.json"))) {
                    throw new IllegalArgumentException(
                            "--models: '"
                                    + model
                                    + "' is neither tiny, sd15, sdxl, sd3 nor a diffusers model folder (no"
                                    + " unet/config.json)");
                }
                return p;
        }
    }

    /**
     * The UNet of {@code folder} (an SD 1.5-shaped one with random weights where it is null),
     * adding its load time and speed to the report.
     */
    static UNet2DConditionModel unet(BenchRun run, String model, Path folder, NDManager manager)
            throws IOException {
        long t0 = System.nanoTime();
        if (folder == null) {
            UNetConfig config =
                    "sdxl".equals(model)
                            ? UNetConfig.parse(
                                    "SDXL-shaped UNet", TinyModels.sdxlShapedUnetConfigJson())
                            : UNetConfig.parse(
                                    "SD 1.5-shaped UNet",
                                    TinyModels.unetConfigJson(TinyModels.Variant.SD15_SHAPED));
            UNet2DConditionModel unet =
                    new UNet2DConditionModel(config, new RandomWeights(7, manager, run.dtype));
            logBuilt(run, model + " UNet", t0);
            return unet;
        }
        Path unetDir = folder.resolve("unet");
        UNet2DConditionModel unet = UNet2DConditionModel.load(unetDir, manager, run.dtype);
        double seconds = (System.nanoTime() - t0) / 1e9;
        // load() reads every tensor into memory libtorch owns (SafetensorsFile explains why not a
        // mapping); the first forward's extra time over a second one is warm-up, not paging.
        double[] forwards = new double[2];
        try (NDManager arrays = manager.newSubManager()) {
            UNetInputs in = UNetInputs.random(arrays, unet.config(), 1, 8);
            for (int i = 0; i < 2; i++) {
                long f0 = System.nanoTime();
                in.forward(unet);
                forwards[i] = (System.nanoTime() - f0) / 1e9;
            }
        }
        double pageIn = Math.max(0, forwards[0] - forwards[1]);
        long bytes = safetensorsBytes(unetDir);
        JsonObject load = new JsonObject();
        load.addProperty("model", model);
        load.addProperty("component", "unet");
        load.addProperty("seconds", BenchRun.round(seconds, 4));
        load.addProperty("first_forward_extra_seconds", BenchRun.round(pageIn, 4));
        load.addProperty("bytes", bytes);
        load.addProperty("gb_per_s", BenchRun.round(bytes / 1e9 / (seconds + pageIn), 3));
        run.report.getAsJsonArray("load").add(load);
        run.log.printf(
                Locale.ROOT,
                "loaded %s UNet: %.3f s + %.3f s paging in at the first forward = %.2f GB/s%n",
                model,
                seconds,
                pageIn,
                bytes / 1e9 / (seconds + pageIn));
        return unet;
    }

    /** The bytes of the {@code .safetensors} files under {@code dir}: what a load reads. */
    static long safetensorsBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".safetensors"))
                    .mapToLong(
                            p -> {
                                try {
                                    return Files.size(p);
                                } catch (IOException e) {
                                    return 0;
                                }
                            })
                    .sum();
        }
    }
}
