package sdbatch.pipeline.bench;

import static sdbatch.pipeline.bench.BenchRun.round;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;

/**
 * Through the whole pipeline of the first model folder: its load speed (a {@code load} row), one
 * image's time split ({@code image}) and native memory over {@code --images} images ({@code
 * memory}).
 */
final class ImageAndMemory {
    private final BenchRun run;

    ImageAndMemory(BenchRun run) {
        this.run = run;
    }

    void measure(Path folder) throws IOException {
        long t0 = System.nanoTime();
        PipelineOptions po =
                PipelineOptions.defaults().withDtype(run.dtype).withCompute(run.compute);
        try (StableDiffusionPipeline pipe = StableDiffusionPipeline.load(folder, po)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            long bytes = BenchModels.safetensorsBytes(folder);
            JsonObject load = new JsonObject();
            load.addProperty("model", folder.getFileName().toString());
            load.addProperty("component", "pipeline");
            load.addProperty("seconds", round(loadSeconds, 4));
            load.addProperty("bytes", bytes);
            load.addProperty("gb_per_s", round(bytes / 1e9 / loadSeconds, 3));
            run.report.getAsJsonArray("load").add(load);
            timeSplit(pipe, folder);
            JsonObject mem = memory(pipe, po.maxBatchSize());
            run.table.add(
                    String.format(
                            Locale.ROOT,
                            "load %s: %.3f s, %.3f GB/s; memory: RSS %.0f MB after 10 images, %.0f"
                                    + " MB after %d; live arrays %d -> %d; peak RSS %.0f MB",
                            folder.getFileName(),
                            loadSeconds,
                            bytes / 1e9 / loadSeconds,
                            mem.get("rss_mb_after_10").getAsDouble(),
                            mem.get("rss_mb_after_all").getAsDouble(),
                            mem.get("images").getAsInt(),
                            mem.get("native_arrays_after_10").getAsInt(),
                            mem.get("native_arrays_after_all").getAsInt(),
                            MachineFacts.procStatusMb("VmHWM")));
        }
    }

    /** One image after a warm-up: text encoding, loop, decode, PNG encoding and file write. */
    private void timeSplit(StableDiffusionPipeline pipe, Path folder) throws IOException {
        ImageRequest request =
                ImageRequest.of("a photo of an astronaut riding a horse", 1)
                        .withSteps(run.options.steps());
        pipe.generate(List.of(request)); // warm-up
        // Once per pipeline (a SHA-256 of the UNet's weights, which every PNG's infotext
        // carries; 3.4 GB took 4.2 s for the SD 1.5-shaped folder): timed apart, not as part
        // of the first PNG.
        long h0 = System.nanoTime();
        pipe.modelHash();
        double hashSeconds = (System.nanoTime() - h0) / 1e9;
        long g0 = System.nanoTime();
        GeneratedImage image = pipe.generate(List.of(request)).get(0);
        long g1 = System.nanoTime();
        byte[] png = pipe.toPng(image, folder.getFileName().toString());
        long g2 = System.nanoTime();
        Path file = Files.createTempFile("sdbatch-bench", ".png");
        try {
            Files.write(file, png);
            long g3 = System.nanoTime();
            GeneratedImage.Timings tm = image.timings();
            JsonObject split = new JsonObject();
            split.addProperty("model", folder.getFileName().toString());
            split.addProperty("width", image.width());
            split.addProperty("height", image.height());
            split.addProperty("steps", run.options.steps());
            split.addProperty("text_encoding_s", round(tm.encodeSeconds(), 5));
            split.addProperty("denoising_loop_s", round(tm.loopSeconds(), 5));
            split.addProperty("vae_decode_s", round(tm.decodeSeconds(), 5));
            split.addProperty("png_encode_s", round((g2 - g1) / 1e9, 5));
            split.addProperty("write_s", round((g3 - g2) / 1e9, 5));
            split.addProperty("model_hash_once_s", round(hashSeconds, 5));
            split.addProperty("generate_s", round((g1 - g0) / 1e9, 5));
            run.report.add("image", split);
            run.table.add(
                    String.format(
                            Locale.ROOT,
                            "image %dx%d, %d steps: text %.4f s, loop %.4f s, decode %.4f s,"
                                    + " png %.4f s, write %.4f s (generate %.4f s)",
                            image.width(),
                            image.height(),
                            run.options.steps(),
                            tm.encodeSeconds(),
                            tm.loopSeconds(),
                            tm.decodeSeconds(),
                            (g2 - g1) / 1e9,
                            (g3 - g2) / 1e9,
                            (g1 - g0) / 1e9));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Native memory: RSS and live arrays after 10 images and after all of them. */
    private JsonObject memory(StableDiffusionPipeline pipe, int maxBatchSize) {
        JsonObject mem = new JsonObject();
        int done = 0;
        long seed = 100;
        while (done < run.options.images()) {
            int n = Math.min(maxBatchSize, run.options.images() - done);
            List<ImageRequest> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                batch.add(ImageRequest.of("a red bicycle", seed++).withSteps(2));
            }
            pipe.generate(batch);
            done += n;
            if (done == 10 || (done > 10 && done - n < 10)) {
                mem.addProperty("rss_mb_after_10", MachineFacts.procStatusMb("VmRSS"));
                mem.addProperty("native_arrays_after_10", pipe.nativeArrayCount());
            }
        }
        mem.addProperty("images", done);
        mem.addProperty("rss_mb_after_all", MachineFacts.procStatusMb("VmRSS"));
        mem.addProperty("native_arrays_after_all", pipe.nativeArrayCount());
        mem.addProperty("peak_rss_mb", MachineFacts.procStatusMb("VmHWM"));
        run.report.add("memory", mem);
        return mem;
    }
}
