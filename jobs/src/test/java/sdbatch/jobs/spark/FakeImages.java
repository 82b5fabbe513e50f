package sdbatch.jobs.spark;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.spark.sql.SparkSession;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.generate.FamilyColumns;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.ModelFacts;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.sweep.SweepSpec;

/**
 * Test doubles for the Spark wiring without a pipeline: the real {@link RowPlanner} on the facts of
 * a made-up model (32x32, PNDM, 2 text-encoder layers), and a generator that paints real PNGs whose
 * pixels depend on the seed and prompt.
 */
final class FakeImages {
    private FakeImages() {}

    static final ModelFacts MODEL =
            new ModelFacts(
                    "fake:model#unet=0000000000",
                    "fake",
                    "0000000000",
                    32,
                    "pndm",
                    "{\"_class_name\": \"PNDMScheduler\", \"skip_prk_steps\": true}",
                    2,
                    2048L * 2048L,
                    FamilyColumns.SD,
                    ModelFacts.CallDefaults.SD);

    /** The planner with {@code --images-per-prompt}. */
    static RowPlanner planner(int imagesPerPrompt) {
        return new RowPlanner(
                MODEL, SweepSpec.parse(null, imagesPerPrompt, null, null, null), null, null);
    }

    /** A PNG of the request's size, filled with a colour from its seed and prompt. */
    static byte[] png(GenerationRequest r) throws IOException {
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

    /** A generator painting {@link #png}; prompts containing "explode" throw. */
    static GenerateJob.GeneratorFactory generators() {
        return device ->
                batch -> {
                    List<GeneratedPng> out = new ArrayList<>();
                    for (PlannedRequest p : batch) {
                        if (p.request().prompt().contains("explode")) {
                            throw new IllegalStateException("the fake model exploded");
                        }
                        out.add(GeneratedPng.ok(png(p.request())));
                    }
                    return out;
                };
    }

    /** What {@link GenerateJob#run} returned, and what it printed. */
    record JobRun(GenerateJob.Summary summary, String log) {}

    /**
     * Runs the job on {@link #planner planner(imagesPerPrompt)} (model "fake") and {@code
     * generators}, keeping its log.
     */
    static JobRun run(
            SparkSession spark,
            JobOptions options,
            int imagesPerPrompt,
            GenerateJob.GeneratorFactory generators)
            throws IOException {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        GenerateJob.Summary summary =
                GenerateJob.run(
                        spark,
                        options,
                        new GenerateJob.Components(planner(imagesPerPrompt), generators, "fake"),
                        new PrintStream(log, true, StandardCharsets.UTF_8));
        return new JobRun(summary, log.toString(StandardCharsets.UTF_8));
    }
}
