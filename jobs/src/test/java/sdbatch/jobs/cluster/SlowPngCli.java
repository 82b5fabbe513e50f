package sdbatch.jobs.cluster;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import sdbatch.jobs.Cli;
import sdbatch.jobs.JobOptions;
import sdbatch.jobs.generate.GeneratedImage;
import sdbatch.jobs.generate.JobRequest;
import sdbatch.jobs.generate.RowPlanner;
import sdbatch.jobs.spark.GenerateCommand;
import sdbatch.jobs.spark.GenerateJob;

/**
 * A driver {@code main} for cluster tests: the real {@link Cli} (flag parsing, exit codes) and the
 * real {@link GenerateCommand}/{@link GenerateJob} (session from {@code --master}/{@code --conf},
 * partitioning, image store, metadata, resume), with test components in place of the model: a
 * planner that expands each row to {@code --images-per-prompt} seeds, and a generator painting a
 * real PNG per request that takes {@value #MILLIS_PROPERTY} ms (default 300), so an executor can be
 * killed while it works.
 *
 * <p>Stands in for {@code sdbatch.jobs.Cli} until {@code Commands.all()} has {@code generate}; it
 * accepts the same command line.
 */
public final class SlowPngCli {
    /** Driver system property: milliseconds each image takes. */
    public static final String MILLIS_PROPERTY = "sdbatch.test.imageMillis";

    /** The model identity recorded in metadata and run.json. */
    static final String MODEL = "slow-png";

    private SlowPngCli() {}

    public static void main(String[] args) {
        long millis = Long.getLong(MILLIS_PROPERTY, 300L);
        GenerateCommand generate =
                new GenerateCommand((options, spark) -> components(options, millis));
        int code =
                new Cli(Map.of("generate", generate))
                        .run(Arrays.asList(args), System.out, System.err);
        System.exit(code);
    }

    static GenerateJob.Components components(JobOptions options, long millis) {
        int images = options.imagesPerPrompt() == null ? 1 : options.imagesPerPrompt();
        int steps = options.steps() == null ? 2 : options.steps().get(0);
        int width = options.width() == null ? 64 : options.width();
        int height = options.height() == null ? 64 : options.height();
        return new GenerateJob.Components(
                planner(images, steps, width, height), generators(millis), MODEL);
    }

    /** Every row with a non-empty prompt: seeds 0..images-1 (or the row's seed). */
    static RowPlanner planner(int images, int steps, int width, int height) {
        return (sourceRow, columns) -> {
            String prompt = (String) columns.get("prompt");
            if (prompt == null || prompt.isEmpty()) {
                return RowPlanner.Plan.invalid(
                        new JobRequest(
                                0, sourceRow, null, prompt, null, null, null, null, null, null,
                                null, null, null, null, MODEL),
                        "prompt is empty");
            }
            List<Long> seeds = new ArrayList<>();
            Object rowSeed = columns.get("seed");
            if (rowSeed != null) {
                seeds.add(Long.valueOf(rowSeed.toString()));
            } else {
                for (long s = 0; s < images; s++) {
                    seeds.add(s);
                }
            }
            List<JobRequest> out = new ArrayList<>();
            for (long seed : seeds) {
                String id =
                        sha256(
                                MODEL + "|" + prompt + "|" + seed + "|" + steps + "|" + width + "x"
                                        + height);
                out.add(
                        new JobRequest(
                                0,
                                sourceRow,
                                id,
                                prompt,
                                null,
                                seed,
                                steps,
                                7.5,
                                "EulerDiscreteScheduler",
                                null,
                                width,
                                height,
                                null,
                                null,
                                MODEL));
            }
            return RowPlanner.Plan.valid(out);
        };
    }

    /** A generator that sleeps {@code millis} per image and paints {@link #png}. */
    static GenerateJob.GeneratorFactory generators(long millis) {
        return device ->
                batch -> {
                    List<GeneratedImage> out = new ArrayList<>();
                    for (JobRequest r : batch) {
                        Thread.sleep(millis);
                        out.add(GeneratedImage.ok(png(r)));
                    }
                    return out;
                };
    }

    /** A PNG of the request's size whose pixels depend on its prompt and seed. */
    static byte[] png(JobRequest r) throws IOException {
        BufferedImage image = new BufferedImage(r.width(), r.height(), BufferedImage.TYPE_INT_RGB);
        int base = (int) (r.seed() * 2654435761L) ^ r.prompt().hashCode();
        for (int y = 0; y < r.height(); y++) {
            for (int x = 0; x < r.width(); x++) {
                image.setRGB(x, y, base + x * 31 + y * 1009);
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(image, "png", bytes);
        return bytes.toByteArray();
    }

    static String sha256(String s) {
        try {
            return HexFormat.of()
                    .formatHex(
                            MessageDigest.getInstance("SHA-256")
                                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
