package sdbatch.jobs.s3;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.ImageIO;
import sdbatch.jobs.generate.GeneratedImage;
import sdbatch.jobs.generate.JobRequest;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.io.ImageStore;
import sdbatch.jobs.spark.ExecutorPipelineCache;
import sdbatch.jobs.spark.GenerateCommand;
import sdbatch.jobs.spark.GenerateJob;
import sdbatch.jobs.storage.ModelCache;
import sdbatch.jobs.storage.StorageUris;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;

/**
 * The job's components for the s3a tests, until {@code Commands.all()} wires the real planner and
 * generator: a small planner (prompt required; the row's seed, else seeds {@code 0..n-1}; the row's
 * steps, else a default; fixed size) and two generators, one running the real Stable Diffusion
 * pipeline on a model fetched through {@link ModelCache}, one painting PNGs (fast, with the {@link
 * Outage} hook for fault tests).
 */
final class S3Fixtures {
    private S3Fixtures() {}

    /** Loaded pipelines of this test JVM; tests close it when done. */
    static final ExecutorPipelineCache PIPELINES = new ExecutorPipelineCache();

    /** Model downloads started by {@link ModelCache} in this JVM (the cache's listener). */
    static final AtomicInteger MODEL_DOWNLOADS = new AtomicInteger();

    /** See the class comment. Image ids hash the model identity and every parameter. */
    static RowPlanner planner(String model, int imagesPerPrompt, int defaultSteps, int size) {
        return (sourceRow, c) -> {
            String prompt = (String) c.get("prompt");
            Object seedCell = c.get("seed");
            Object stepsCell = c.get("steps");
            String error = null;
            Long seed = null;
            int steps = defaultSteps;
            try {
                seed = seedCell == null ? null : Long.valueOf(seedCell.toString());
            } catch (NumberFormatException e) {
                error = "seed '" + seedCell + "' is not an integer";
            }
            try {
                steps = stepsCell == null ? defaultSteps : Integer.parseInt(stepsCell.toString());
            } catch (NumberFormatException e) {
                error = "steps '" + stepsCell + "' is not an integer";
            }
            if (prompt == null || prompt.isBlank()) {
                error = "prompt is empty";
            }
            if (error != null) {
                return RowPlanner.Plan.invalid(
                        new JobRequest(
                                0, sourceRow, null, prompt, null, seed, null, null, null, null,
                                null, null, null, null, model),
                        error);
            }
            List<JobRequest> out = new ArrayList<>();
            long first = seed == null ? 0 : seed;
            long count = seed == null ? imagesPerPrompt : 1;
            for (long s = first; s < first + count; s++) {
                String id =
                        ImageStore.sha256(
                                        (model + "|" + prompt + "|" + s + "|" + steps + "|" + size)
                                                .getBytes(StandardCharsets.UTF_8))
                                .substring(0, 32);
                out.add(
                        new JobRequest(
                                0, sourceRow, id, prompt, null, s, steps, 7.5, null, null, size,
                                size, null, null, model));
            }
            return RowPlanner.Plan.valid(out);
        };
    }

    /**
     * The generate command's components with the real pipeline: {@code --model} (any Hadoop URI) is
     * copied once per host into {@code cacheRoot} by {@link ModelCache} on the executor, with the
     * driver's Hadoop settings (those of {@code --conf spark.hadoop.*}), and loaded once per JVM.
     * This is the shape of the real wiring, in test code.
     */
    static GenerateCommand.ComponentsFactory tinyPipeline(
            Path cacheRoot, int imagesPerPrompt, int steps, int size) {
        String cache = cacheRoot.toString();
        return (options, spark) -> {
            String model = options.model();
            String identity = StorageUris.redact(model);
            HadoopConf conf = new HadoopConf(spark.sparkContext().hadoopConfiguration());
            GenerateJob.GeneratorFactory generators =
                    device -> {
                        Path local =
                                new ModelCache(
                                                Path.of(cache),
                                                conf.get(),
                                                (uri, tmp) -> MODEL_DOWNLOADS.incrementAndGet())
                                        .resolve(model);
                        StableDiffusionPipeline pipeline =
                                PIPELINES.get(
                                        new ExecutorPipelineCache.Key(
                                                local.toString(), device.device(), "fp32"),
                                        k ->
                                                StableDiffusionPipeline.load(
                                                        local, PipelineOptions.defaults()));
                        return batch -> {
                            List<ImageRequest> requests = new ArrayList<>();
                            for (JobRequest r : batch) {
                                requests.add(
                                        ImageRequest.of(r.prompt(), r.seed())
                                                .withSteps(r.steps())
                                                .withGuidanceScale(r.guidanceScale())
                                                .withSize(r.width(), r.height()));
                            }
                            List<GeneratedImage> out = new ArrayList<>();
                            for (sdbatch.pipeline.GeneratedImage image :
                                    pipeline.generate(requests)) {
                                out.add(GeneratedImage.ok(pipeline.toPng(image, identity)));
                            }
                            return out;
                        };
                    };
            return new GenerateJob.Components(
                    planner(identity, imagesPerPrompt, steps, size), generators, identity);
        };
    }

    /** Components with {@link #painter()}; the model identity is {@code painter}. */
    static GenerateCommand.ComponentsFactory painted(int imagesPerPrompt, int size) {
        return (options, spark) ->
                new GenerateJob.Components(
                        planner("painter", imagesPerPrompt, 1, size), painter(), "painter");
    }

    /**
     * A generator painting a PNG per request whose pixels depend on prompt and seed; it calls
     * {@link Outage#beforeGenerate} first with the batch's image ids.
     */
    static GenerateJob.GeneratorFactory painter() {
        return device ->
                batch -> {
                    List<String> ids = new ArrayList<>();
                    batch.forEach(r -> ids.add(r.imageId()));
                    Outage.beforeGenerate(ids);
                    List<GeneratedImage> out = new ArrayList<>();
                    for (JobRequest r : batch) {
                        out.add(GeneratedImage.ok(paint(r)));
                    }
                    return out;
                };
    }

    static byte[] paint(JobRequest r) throws IOException {
        BufferedImage image = new BufferedImage(r.width(), r.height(), BufferedImage.TYPE_INT_RGB);
        int rgb = (int) (r.seed() * 2654435761L) ^ r.prompt().hashCode();
        for (int y = 0; y < r.height(); y++) {
            for (int x = 0; x < r.width(); x++) {
                image.setRGB(x, y, rgb + x * y);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }
}
