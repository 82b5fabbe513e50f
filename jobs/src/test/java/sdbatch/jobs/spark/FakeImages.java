package sdbatch.jobs.spark;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import sdbatch.jobs.generate.GeneratedImage;
import sdbatch.jobs.generate.JobRequest;
import sdbatch.jobs.generate.RowPlanner;

/**
 * Test doubles for the generate job until schemas' validation and the real pipeline are wired: a
 * minimal planner (prompt required, seed/steps/width/height from the row or defaults, {@code
 * images} seeds per row) and a generator that paints real PNGs whose pixels depend on the seed.
 */
final class FakeImages {
    private FakeImages() {}

    /** A planner: row seed, else seeds 0..imagesPerPrompt-1; steps parsed from int or string. */
    static RowPlanner planner(int imagesPerPrompt, int defaultSteps, int size) {
        return (sourceRow, c) -> {
            String prompt = (String) c.get("prompt");
            Long seed = null;
            Integer steps = defaultSteps;
            String error = null;
            try {
                seed = c.get("seed") == null ? null : Long.valueOf(c.get("seed").toString());
            } catch (NumberFormatException e) {
                error = "seed '" + c.get("seed") + "' is not an integer";
            }
            try {
                if (c.get("steps") != null) {
                    steps = Integer.valueOf(c.get("steps").toString());
                }
            } catch (NumberFormatException e) {
                error = "steps '" + c.get("steps") + "' is not an integer";
            }
            if (prompt == null || prompt.isEmpty()) {
                error = "prompt is empty";
            }
            if (error != null) {
                return RowPlanner.Plan.invalid(
                        new JobRequest(
                                0, sourceRow, null, prompt, null, seed, null, null, null, null,
                                null, null, null, null, "fake"),
                        error);
            }
            List<JobRequest> out = new ArrayList<>();
            List<Long> seeds = new ArrayList<>();
            if (seed != null) {
                seeds.add(seed);
            } else {
                for (long s = 0; s < imagesPerPrompt; s++) {
                    seeds.add(s);
                }
            }
            for (long s : seeds) {
                String id = hash(prompt + "|" + s + "|" + steps + "|" + size);
                out.add(
                        new JobRequest(
                                0, sourceRow, id, prompt, null, s, steps, 7.5, "euler", null, size,
                                size, null, null, "fake"));
            }
            return RowPlanner.Plan.valid(out);
        };
    }

    static String hash(String s) {
        try {
            return HexFormat.of()
                    .formatHex(
                            MessageDigest.getInstance("SHA-256")
                                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A PNG of the request's size, filled with a colour from its seed and prompt. */
    static byte[] png(JobRequest r) throws IOException {
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
                    List<GeneratedImage> out = new ArrayList<>();
                    for (JobRequest r : batch) {
                        if (r.prompt().contains("explode")) {
                            throw new IllegalStateException("the fake model exploded");
                        }
                        out.add(GeneratedImage.ok(png(r)));
                    }
                    return out;
                };
    }

    static Map<String, Object> unused() {
        return Map.of();
    }
}
