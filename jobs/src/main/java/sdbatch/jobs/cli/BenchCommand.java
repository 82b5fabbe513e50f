package sdbatch.jobs.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.bench.Bench;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.schemas.util.FileTrees;

/**
 * {@code sdbatch bench}: the pipeline benchmark ({@link Bench}, see BENCHMARKS.md) plus what only
 * the job side can measure, {@code spark_vs_loop}: the generate job's images per second over a bare
 * loop of {@link StableDiffusionPipeline#generate} + PNG + file write on the same requests in the
 * same JVM, for a fast configuration and for one where an image takes about a second or more.
 *
 * <p>Both sides start from a loaded model (the job's model load, Spark session start and metadata
 * commit are part of its wall time: that is the overhead a user pays). The job runs with {@code
 * --master local[1]} so that it, like the loop, generates one image at a time.
 */
final class BenchCommand {
    private BenchCommand() {}

    static final String USAGE =
            String.join(
                    "\n",
                    "usage: sdbatch bench [pipeline bench flags] [--spark-images N] [--no-spark]",
                    "  pipeline bench flags: --json --quick --out FILE --models tiny,sd15,sdxl,sd3,DIR"
                            + " --latents 32,64 --batches 1,2,4 --dtype fp32|fp16|bf16 --threads N"
                            + " --runs N --images N --steps N --ablation (see BENCHMARKS.md)",
                    "  --spark-images N  images per spark_vs_loop configuration (default 6)",
                    "  --no-spark        skip spark_vs_loop",
                    "       sdbatch bench --memory DIR [--dtype fp32|fp16|bf16] [--without-t5]"
                            + " [--size N] [--steps N] [--out memory.json]",
                    "  peak resident memory of loading DIR and of one image (run once per"
                            + " configuration)",
                    "");

    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.contains("--memory")) {
            // One folder's load and one-image peak memory in this process: no Spark side.
            int rc = Bench.run(args.toArray(String[]::new), out, err);
            return rc == 0
                    ? ExitCode.OK.code()
                    : rc == 2 ? ExitCode.CANNOT_START.code() : ExitCode.FAILED_ROWS.code();
        }
        List<String> benchArgs = new ArrayList<>();
        int sparkImages = 6;
        boolean spark = true;
        boolean json = false;
        Path outFile = Path.of("bench.json");
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "--help", "-h" -> {
                    out.print(USAGE);
                    Bench.run(new String[] {"--help"}, out, err);
                    return ExitCode.OK.code();
                }
                case "--no-spark" -> spark = false;
                case "--spark-images" -> {
                    if (i + 1 >= args.size()) {
                        err.println("sdbatch bench: --spark-images needs a value");
                        return ExitCode.CANNOT_START.code();
                    }
                    try {
                        sparkImages = Integer.parseInt(args.get(++i));
                    } catch (NumberFormatException e) {
                        err.println(
                                "sdbatch bench: --spark-images "
                                        + args.get(i)
                                        + " is not a number");
                        return ExitCode.CANNOT_START.code();
                    }
                    if (sparkImages < 1) {
                        err.println("sdbatch bench: --spark-images must be >= 1");
                        return ExitCode.CANNOT_START.code();
                    }
                }
                case "--out" -> {
                    if (i + 1 >= args.size()) {
                        err.println("sdbatch bench: --out needs a value");
                        return ExitCode.CANNOT_START.code();
                    }
                    outFile = Path.of(args.get(++i));
                }
                case "--json" -> json = true;
                default -> benchArgs.add(a);
            }
        }
        try {
            Path work = Files.createTempDirectory("sdbatch-bench");
            Path pipelineJson = work.resolve("pipeline-bench.json");
            benchArgs.add("--out");
            benchArgs.add(pipelineJson.toString());
            // The pipeline bench prints its table to our stderr when --json asks stdout for JSON.
            int rc = Bench.run(benchArgs.toArray(String[]::new), json ? err : out, err);
            if (rc != 0) {
                return rc == 2 ? ExitCode.CANNOT_START.code() : ExitCode.FAILED_ROWS.code();
            }
            JsonObject report =
                    JsonParser.parseString(Files.readString(pipelineJson)).getAsJsonObject();
            if (spark) {
                report.add(
                        "spark_vs_loop_detail", sparkVsLoop(work, sparkImages, json ? err : out));
                JsonArray detail = report.getAsJsonArray("spark_vs_loop_detail");
                // The headline ratio is the slower configuration's: the target (0.95x)
                // is stated for images of a second or more.
                report.addProperty(
                        "spark_vs_loop",
                        detail.get(detail.size() - 1).getAsJsonObject().get("ratio").getAsDouble());
            }
            String text =
                    new GsonBuilder()
                            .setPrettyPrinting()
                            .disableHtmlEscaping()
                            .create()
                            .toJson(report);
            Files.writeString(outFile, text + "\n");
            if (json) {
                out.println(text);
            } else {
                out.println("bench.json written to " + outFile.toAbsolutePath());
            }
            FileTrees.deleteRecursively(work);
            return ExitCode.OK.code();
        } catch (IOException | RuntimeException e) {
            err.println("sdbatch bench failed:");
            e.printStackTrace(err);
            return ExitCode.FAILED_ROWS.code();
        }
    }

    private static JsonArray sparkVsLoop(Path work, int images, PrintStream log)
            throws IOException {
        Path model = TinyModels.write(work.resolve("tiny-sd1"), TinyModels.Variant.SD1, 0);
        JsonArray results = new JsonArray();
        // A fast configuration (Spark's fixed costs dominate) and a slow one (about a second or
        // more per image on 2 cores), as the issue asks.
        for (int steps : new int[] {2, 25}) {
            results.add(compare(work, model, images, steps, log));
        }
        return results;
    }

    private static JsonObject compare(Path work, Path model, int images, int steps, PrintStream log)
            throws IOException {
        List<ImageRequest> requests = new ArrayList<>();
        for (int i = 0; i < images; i++) {
            requests.add(
                    ImageRequest.of("a lighthouse at dawn number " + i, i)
                            .withSteps(steps)
                            .withGuidanceScale(7.5)
                            .withScheduler("euler", null));
        }
        // The job also runs on the first half of the requests: the difference between the two
        // job sizes is the job's per-image time without its fixed cost (session, planning, commit).
        int half = Math.max(1, images / 2);
        Path input = csv(work, "prompts-" + steps + ".csv", requests);
        Path halfInput = csv(work, "prompts-" + steps + "-half.csv", requests.subList(0, half));
        // Loop and job alternate (loop, job, loop, job) and each side keeps its fastest round, so
        // load that drifts during the run hits both sides alike instead of skewing the ratio.
        double loopSeconds = Double.MAX_VALUE;
        double jobSeconds = Double.MAX_VALUE;
        double halfJobSeconds = Double.MAX_VALUE;
        for (int round = 0; round < ROUNDS; round++) {
            loopSeconds = Math.min(loopSeconds, loop(work, model, requests, steps, round));
            halfJobSeconds =
                    Math.min(halfJobSeconds, job(work, model, halfInput, steps, "half-" + round));
            jobSeconds = Math.min(jobSeconds, job(work, model, input, steps, "all-" + round));
        }
        double loopRate = images / loopSeconds;
        double jobRate = images / jobSeconds;
        double marginalJobSeconds = (jobSeconds - halfJobSeconds) / (images - half);
        double fixedSeconds = jobSeconds - marginalJobSeconds * images;
        JsonObject r = new JsonObject();
        r.addProperty("model", "tiny");
        r.addProperty("steps", steps);
        r.addProperty("images", images);
        r.addProperty("rounds", ROUNDS);
        r.addProperty("loop_seconds_per_image", loopSeconds / images);
        r.addProperty("job_wall_seconds", jobSeconds);
        r.addProperty("job_wall_seconds_half", halfJobSeconds);
        r.addProperty("half_images", half);
        r.addProperty("loop_images_per_second", loopRate);
        r.addProperty("job_images_per_second", jobRate);
        r.addProperty("ratio", jobRate / loopRate);
        r.addProperty("job_marginal_seconds_per_image", marginalJobSeconds);
        r.addProperty("job_fixed_seconds", fixedSeconds);
        r.addProperty("marginal_ratio", (loopSeconds / images) / marginalJobSeconds);
        log.printf(
                "spark_vs_loop steps=%d: loop %.2f s/image; job %.1f s wall for %d images, %.1f s"
                        + " for %d (fastest of %d alternating rounds each): ratio %.3f; per"
                        + " image beyond the fixed %.1f s: %.2f s, marginal ratio %.3f%n",
                steps,
                loopSeconds / images,
                jobSeconds,
                images,
                halfJobSeconds,
                half,
                ROUNDS,
                jobRate / loopRate,
                fixedSeconds,
                marginalJobSeconds,
                (loopSeconds / images) / marginalJobSeconds);
        return r;
    }

    private static Path csv(Path work, String name, List<ImageRequest> requests)
            throws IOException {
        StringBuilder csv = new StringBuilder("prompt,seed,steps,guidance_scale,scheduler\n");
        for (ImageRequest q : requests) {
            csv.append('"')
                    .append(q.prompt())
                    .append("\",")
                    .append(q.seed())
                    .append(',')
                    .append(q.steps())
                    .append(",7.5,euler\n");
        }
        return Files.writeString(work.resolve(name), csv.toString());
    }

    /** Alternating rounds per configuration (see {@link #compare}). */
    static final int ROUNDS = 2;

    /** The bare loop: the same work a task does per image, without Spark. */
    private static double loop(
            Path work, Path model, List<ImageRequest> requests, int steps, int round)
            throws IOException {
        Path loopOut = Files.createDirectories(work.resolve("loop-" + steps + "-" + round));
        try (StableDiffusionPipeline pipe =
                StableDiffusionPipeline.load(model, PipelineOptions.defaults())) {
            pipe.generate(
                    List.of(requests.get(0).withSteps(1))); // warm-up, as the job's first task
            pipe.modelHash(); // computed once on the job's driver too, before its clock matters
            long t0 = System.nanoTime();
            for (int i = 0; i < requests.size(); i++) {
                GeneratedImage img = pipe.generate(List.of(requests.get(i))).get(0);
                Files.write(loopOut.resolve(i + ".png"), pipe.toPng(img, "tiny"));
            }
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** The same requests through {@code sdbatch generate}: wall time from call to exit. */
    private static double job(Path work, Path model, Path input, int steps, String round) {
        Path jobOut = work.resolve("job-" + steps + "-" + round);
        ByteArrayOutputStream jobLog = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int rc;
        try (PrintStream captured = new PrintStream(jobLog, true, StandardCharsets.UTF_8)) {
            rc =
                    Cli.standard()
                            .run(
                                    List.of(
                                            "generate",
                                            "--model",
                                            model.toString(),
                                            "--input",
                                            input.toString(),
                                            "--output",
                                            jobOut.toString(),
                                            "--master",
                                            "local[1]",
                                            "--conf",
                                            "spark.ui.enabled=false"),
                                    captured,
                                    captured);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (rc != 0) {
            throw new IllegalStateException(
                    "the benchmark job exited "
                            + rc
                            + ":\n"
                            + jobLog.toString(StandardCharsets.UTF_8));
        }
        return seconds;
    }
}
