package sdbatch.pipeline.bench;

import static sdbatch.pipeline.bench.BenchRun.round;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.schemas.util.FileTrees;

/**
 * {@code sdbatch bench}: measures the UNet forward against the machine's compute floor, the cost of
 * a native call, one image's time split, model load speed and native memory over many images,
 * prints a table and writes the JSON report ({@link BenchOptions#out()}).
 *
 * <p>The report has {@code unet} (a list of {@code {model, batch, latent, seconds, gflop, gflops,
 * ...}}), {@code floor} ({@code matmul_gflops}, {@code conv_gflops}), {@code native} (trivial-op
 * round trip, native calls per UNet step and the Java share of a step), {@code image}, {@code load}
 * and {@code memory}. The Spark-overhead figure ({@code spark_vs_loop}) is not measured here: the
 * pipeline module has no Spark; the job-side command adds it to this report.
 *
 * <p>This class runs the parts in order on one {@link BenchRun}: {@link MachineFacts}, {@link
 * LibtorchThroughput} (the floor), then per model {@link BenchModels} (folder, UNet load), {@link
 * DenoiserTiming} and {@link Ablation} (SD3's transformer: timing only), then {@link
 * ImageAndMemory}.
 *
 * <p>A command, never a test: it takes minutes and its numbers are only meaningful on an idle
 * machine (the report records the load average at start and end).
 */
public final class Bench {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private Bench() {}

    /** Runs the bench and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the bench with {@code args} (see {@link BenchOptions#USAGE}), or with {@code --memory
     * DIR} the load and one-image memory measurement ({@link ModelMemory}).
     *
     * @return 0 on success, 2 for bad arguments, 1 if a measurement failed
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (java.util.Arrays.asList(args).contains("--memory")) {
            return ModelMemory.run(args, out, err);
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("sdbatch bench: " + e.getMessage());
            return 2;
        }
        if (options == null) {
            out.println(BenchOptions.USAGE);
            return 0;
        }
        NativeEnvironment.configure(options.threads(), options.ompWait());
        BenchRun run = new BenchRun(options, options.json() ? err : out);
        try (ComputeOptions.Scope scope = run.compute.enter()) {
            JsonObject report = measure(run);
            String json = GSON.toJson(report);
            Files.writeString(options.out(), json + "\n");
            if (options.json()) {
                out.println(json);
            } else {
                run.table.forEach(out::println);
                out.println("report written to " + options.out().toAbsolutePath());
            }
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("sdbatch bench: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    private static JsonObject measure(BenchRun run) throws IOException {
        BenchOptions options = run.options;
        JsonObject report = run.report;
        Engine engine = Engine.getEngine("PyTorch");
        if (options.threads() > 0) {
            JniUtils.setNumThreads(options.threads());
        }
        report.add("machine", MachineFacts.atStart(engine, options));
        report.addProperty("dtype", options.dtype());
        report.addProperty("command", "sdbatch bench " + String.join(" ", argsEcho(options)));
        Path tmp = Files.createTempDirectory("sdbatch-bench");
        try (NDManager manager = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            floorAndNativeCalls(run, manager);
            report.add("unet", new JsonArray());
            report.add("load", new JsonArray());
            run.table.add(
                    String.format(
                            Locale.ROOT,
                            "%-10s %5s %6s %9s %9s %8s %9s %9s %7s",
                            "model",
                            "batch",
                            "latent",
                            "seconds",
                            "GFLOP",
                            "GFLOP/s",
                            "of floor",
                            "adjacent",
                            "calls"));
            Path imageModel = null;
            for (String model : options.models()) {
                if (BenchModels.SD3.equals(model)) {
                    // A transformer, not a UNet: timed, but the ablation's changes are the UNet's.
                    try (SD3Transformer2DModel transformer =
                            BenchModels.sd3Transformer(run, manager)) {
                        new DenoiserTiming(run).time(model, TimedDenoiser.of(transformer), manager);
                    }
                    continue;
                }
                Path folder = BenchModels.folder(model, tmp);
                if (folder != null && imageModel == null) {
                    imageModel = folder;
                }
                String name = folder == null ? model : folder.getFileName().toString();
                try (UNet2DConditionModel unet = BenchModels.unet(run, name, folder, manager)) {
                    new DenoiserTiming(run).time(name, TimedDenoiser.of(unet), manager);
                    if (options.ablation()) {
                        new Ablation(run).measure(name, unet, manager);
                    }
                }
            }
            if (imageModel != null) {
                new ImageAndMemory(run).measure(imageModel);
            }
            // Measured again at the end: on a shared host the floor itself drifts during a run.
            report.add(
                    "floor_end",
                    LibtorchThroughput.measure(manager, run.dtype, options.quick() ? 3 : 10));
        } finally {
            FileTrees.deleteRecursively(tmp);
        }
        MachineFacts.atEnd(report.getAsJsonObject("machine"), options);
        return report;
    }

    /** The report's {@code floor} and {@code native.trivial_op_us}, and the table's first line. */
    private static void floorAndNativeCalls(BenchRun run, NDManager manager) {
        boolean quick = run.options.quick();
        JsonObject floor = LibtorchThroughput.measure(manager, run.dtype, quick ? 3 : 10);
        run.report.add("floor", floor);
        double matmul = floor.get("matmul_gflops").getAsDouble();
        double conv = floor.get("conv_gflops").getAsDouble();
        run.floorGflops(Math.max(matmul, conv));
        double roundTrip = LibtorchThroughput.trivialOpMicros(manager, quick ? 20_000 : 100_000);
        JsonObject nativeCalls = new JsonObject();
        nativeCalls.addProperty("trivial_op_us", round(roundTrip, 3));
        nativeCalls.add("unet_steps", new JsonArray());
        run.report.add("native", nativeCalls);
        run.tableAndLog(
                String.format(
                        Locale.ROOT,
                        "floor: matmul 2048² %.1f GFLOP/s, conv 320→320 3×3 at 64×64 %.1f"
                                + " GFLOP/s; trivial op round trip %.2f µs",
                        matmul,
                        conv,
                        roundTrip));
    }

    /** The command line that reproduces this run, defaults spelled out. */
    private static List<String> argsEcho(BenchOptions options) {
        List<String> a = new ArrayList<>();
        a.add("--models " + String.join(",", options.models()));
        a.add("--latents " + join(options.latents()));
        a.add("--batches " + join(options.batches()));
        a.add("--dtype " + options.dtype());
        a.add("--runs " + options.runs());
        a.add("--images " + options.images());
        a.add("--steps " + options.steps());
        if (options.threads() > 0) {
            a.add("--threads " + options.threads());
        }
        if (options.ompWait() != null) {
            a.add("--omp-wait " + options.ompWait());
        }
        if (options.ablation()) {
            a.add("--ablation");
        }
        return a;
    }

    private static String join(List<Integer> xs) {
        StringBuilder b = new StringBuilder();
        for (int x : xs) {
            b.append(b.length() == 0 ? "" : ",").append(x);
        }
        return b.toString();
    }
}
