package sdbatch.pipeline.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.config.UNetConfig;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.models.blocks.Attention;
import sdbatch.pipeline.models.blocks.Bf16Compute;
import sdbatch.pipeline.models.blocks.Conv2d;
import sdbatch.pipeline.models.blocks.GroupNorm;
import sdbatch.pipeline.models.blocks.ScaledDotProductAttention;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.pipeline.weights.RandomWeights;

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
 * <p>A command, never a test: it takes minutes and its numbers are only meaningful on an idle
 * machine (the report records the load average at start and end).
 */
public final class Bench {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();
    private static final int TEXT_TOKENS = 77;

    private final BenchOptions options;
    private final PrintStream log;
    private final DataType dtype;
    private final JsonObject report = new JsonObject();
    private final List<String> table = new ArrayList<>();
    private double floorGflops;
    // The bench's compute choices: in force for the whole run (models it calls directly) and
    // handed to every pipeline it loads; the ablation varies them per configuration.
    private final ComputeOptions compute;

    private Bench(BenchOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
        this.dtype = options.dtype().equals("fp16") ? DataType.FLOAT16 : DataType.FLOAT32;
        // bf16: float32 everywhere DJL sees, bfloat16 arithmetic inside libtorch.
        this.compute = ComputeOptions.defaults().withBf16(options.dtype().equals("bf16"));
    }

    /** Runs the bench and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Runs the bench with {@code args} (see {@link BenchOptions#USAGE}).
     *
     * @return 0 on success, 2 for bad arguments, 1 if a measurement failed
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
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
        Bench bench = new Bench(options, options.json() ? err : out);
        try (ComputeOptions.Scope scope = bench.compute.enter()) {
            JsonObject report = bench.measure();
            String json = GSON.toJson(report);
            Files.writeString(options.out(), json + "\n");
            if (options.json()) {
                out.println(json);
            } else {
                bench.table.forEach(out::println);
                out.println("report written to " + options.out().toAbsolutePath());
            }
            return 0;
        } catch (IOException | RuntimeException e) {
            err.println("sdbatch bench: " + e);
            e.printStackTrace(err);
            return 1;
        }
    }

    private JsonObject measure() throws IOException {
        Engine engine = Engine.getEngine("PyTorch");
        if (options.threads() > 0) {
            JniUtils.setNumThreads(options.threads());
        }
        report.add("machine", machine(engine));
        report.addProperty("dtype", options.dtype());
        report.addProperty("command", "sdbatch bench " + String.join(" ", argsEcho()));
        Path tmp = Files.createTempDirectory("sdbatch-bench");
        try (NDManager manager = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            report.add(
                    "floor", LibtorchThroughput.measure(manager, dtype, options.quick() ? 3 : 10));
            floorGflops =
                    Math.max(
                            report.getAsJsonObject("floor").get("matmul_gflops").getAsDouble(),
                            report.getAsJsonObject("floor").get("conv_gflops").getAsDouble());
            double roundTrip =
                    LibtorchThroughput.trivialOpMicros(manager, options.quick() ? 20_000 : 100_000);
            JsonObject nativeCalls = new JsonObject();
            nativeCalls.addProperty("trivial_op_us", round(roundTrip, 3));
            nativeCalls.add("unet_steps", new JsonArray());
            report.add("native", nativeCalls);
            table.add(
                    String.format(
                            Locale.ROOT,
                            "floor: matmul 2048² %.1f GFLOP/s, conv 320→320 3×3 at 64×64 %.1f"
                                    + " GFLOP/s; trivial op round trip %.2f µs",
                            report.getAsJsonObject("floor").get("matmul_gflops").getAsDouble(),
                            report.getAsJsonObject("floor").get("conv_gflops").getAsDouble(),
                            roundTrip));
            log.println(table.get(0));
            report.add("unet", new JsonArray());
            report.add("load", new JsonArray());
            table.add(
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
                Path folder = modelFolder(model, tmp);
                if (folder != null && imageModel == null) {
                    imageModel = folder;
                }
                String name = folder == null ? model : folder.getFileName().toString();
                try (UNet2DConditionModel unet = unet(name, folder, manager)) {
                    timeUNet(name, unet, manager);
                    if (options.ablation()) {
                        ablation(name, unet, manager);
                    }
                }
            }
            if (imageModel != null) {
                imageAndMemory(imageModel);
            }
            // Measured again at the end: on a shared host the floor itself drifts during a run.
            report.add(
                    "floor_end",
                    LibtorchThroughput.measure(manager, dtype, options.quick() ? 3 : 10));
        } finally {
            deleteTree(tmp);
        }
        report.getAsJsonObject("machine").addProperty("load_average_end", loadAverage());
        // Known only after the first attention / bf16 call tried to load its module.
        JsonObject machine = report.getAsJsonObject("machine");
        fastPath(
                machine,
                "attention_fused",
                ScaledDotProductAttention.enabled(),
                ScaledDotProductAttention.unavailableReason());
        // bfloat16 paths run only with --dtype bf16 or in the ablation.
        boolean bf16Ran = options.dtype().equals("bf16") || options.ablation();
        fastPath(
                machine,
                "bf16_prepacked_weights",
                bf16Ran && Bf16Compute.prepack(),
                Bf16Compute.prepackUnavailableReason());
        fastPath(
                machine,
                "bf16_block_calls",
                bf16Ran && Bf16Compute.fused(),
                Bf16Compute.fusedUnavailableReason());
        report.getAsJsonObject("machine").addProperty("peak_rss_mb", procStatusMb("VmHWM"));
        return report;
    }

    /** Whether an optional libtorch path was used ({@code key}), and why not if it failed. */
    private static void fastPath(JsonObject machine, String key, boolean on, String unavailable) {
        machine.addProperty(key, on && unavailable == null);
        if (unavailable != null) {
            machine.addProperty(key + "_unavailable", unavailable);
        }
    }

    private List<String> argsEcho() {
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

    private JsonObject machine(Engine engine) throws IOException {
        JsonObject m = new JsonObject();
        m.addProperty("date", OffsetDateTime.now().toString());
        m.addProperty("cpu", cpuModel());
        m.addProperty("cores", Runtime.getRuntime().availableProcessors());
        m.addProperty("load_average_start", loadAverage());
        m.addProperty("java", System.getProperty("java.version"));
        m.addProperty("engine", engine.getEngineName() + " " + engine.getVersion());
        m.addProperty("device", engine.defaultDevice().toString());
        m.addProperty("intra_op_threads", JniUtils.getNumThreads());
        m.addProperty("omp_wait_policy", NativeEnvironment.ompWaitPolicy(options.ompWait()));
        String tunables = System.getenv("GLIBC_TUNABLES");
        m.addProperty("glibc_tunables", tunables == null ? "" : tunables);
        m.addProperty("conv_lowering", Conv2d.lowering());
        m.addProperty("group_norm_kernel", GroupNorm.fused());
        m.addProperty("attention_max_score_elements", Attention.maxScoreElements());

        return m;
    }

    /** The diffusers folder of a model name, writing the tiny model if asked; null for sd15. */
    private Path modelFolder(String model, Path tmp) throws IOException {
        switch (model) {
            case "sd15":
                return null;
            case "tiny":
                return TinyModels.write(tmp.resolve("tiny"), TinyModels.Variant.SD1, 0);
            default:
                Path p = Path.of(model);
                if (!Files.isRegularFile(p.resolve("unet/config.json"))) {
                    throw new IllegalArgumentException(
                            "--models: '"
                                    + model
                                    + "' is neither tiny, sd15 nor a diffusers model folder (no"
                                    + " unet/config.json)");
                }
                return p;
        }
    }

    private UNet2DConditionModel unet(String model, Path folder, NDManager manager)
            throws IOException {
        long t0 = System.nanoTime();
        if (folder == null) {
            UNetConfig config =
                    UNetConfig.parse(
                            "SD 1.5-shaped UNet",
                            TinyModels.unetConfigJson(TinyModels.Variant.SD15_SHAPED));
            UNet2DConditionModel unet =
                    new UNet2DConditionModel(config, new RandomWeights(7, manager, dtype));
            log.printf(
                    Locale.ROOT,
                    "built %s UNet in memory in %.1f s%n",
                    model,
                    (System.nanoTime() - t0) / 1e9);
            return unet;
        }
        Path unetDir = folder.resolve("unet");
        UNet2DConditionModel unet = UNet2DConditionModel.load(unetDir, manager, dtype);
        double seconds = (System.nanoTime() - t0) / 1e9;
        // Float32 weights are zero-copy views of the memory-mapped file, so load() returns before
        // the bytes are read; the first forward pages them in. Its extra time over a second
        // forward is the rest of the load.
        double[] forwards = new double[2];
        try (NDManager run = manager.newSubManager()) {
            UNetConfig c = unet.config();
            NDArray[] in = unetInputs(run, c, 1, 8);
            NDArray sample = in[0];
            NDArray t = in[1];
            NDArray ehs = in[2];
            for (int i = 0; i < 2; i++) {
                long f0 = System.nanoTime();
                try (NDScope s = new NDScope()) {
                    s.suppressNotUsedWarning();
                    unet.forward(sample, t, ehs);
                }
                forwards[i] = (System.nanoTime() - f0) / 1e9;
            }
        }
        double pageIn = Math.max(0, forwards[0] - forwards[1]);
        long bytes = folderBytes(unetDir);
        JsonObject load = new JsonObject();
        load.addProperty("model", model);
        load.addProperty("component", "unet");
        load.addProperty("seconds", round(seconds, 4));
        load.addProperty("first_forward_extra_seconds", round(pageIn, 4));
        load.addProperty("bytes", bytes);
        load.addProperty("gb_per_s", round(bytes / 1e9 / (seconds + pageIn), 3));
        report.getAsJsonArray("load").add(load);
        log.printf(
                Locale.ROOT,
                "loaded %s UNet: %.3f s + %.3f s paging in at the first forward = %.2f GB/s%n",
                model,
                seconds,
                pageIn,
                bytes / 1e9 / (seconds + pageIn));
        return unet;
    }

    /** Random UNet inputs: sample [batch, in, latent, latent], timestep 500, text states. */
    private static NDArray[] unetInputs(NDManager run, UNetConfig c, int batch, int latent) {
        return new NDArray[] {
            LibtorchThroughput.random(run, new Shape(batch, c.inChannels(), latent, latent), 1),
            run.create(500f),
            LibtorchThroughput.random(run, new Shape(batch, TEXT_TOKENS, c.crossAttentionDim()), 2)
        };
    }

    private void timeUNet(String model, UNet2DConditionModel unet, NDManager manager) {
        UNetConfig c = unet.config();
        int profileBatch = options.batches().contains(2) ? 2 : options.batches().get(0);
        for (int latent : options.latents()) {
            for (int batch : options.batches()) {
                try (NDManager run = manager.newSubManager()) {
                    NDArray[] in = unetInputs(run, c, batch, latent);
                    NDArray sample = in[0];
                    NDArray t = in[1];
                    NDArray ehs = in[2];
                    Runnable forward =
                            () -> {
                                try (NDScope s = new NDScope()) {
                                    s.suppressNotUsedWarning();
                                    unet.forward(sample, t, ehs);
                                }
                            };
                    forward.run(); // warm-up: allocator, oneDNN primitive caches
                    long flop = UNetFlops.forward(c, batch, latent, latent, TEXT_TOKENS, true);
                    long flopNoAttn =
                            UNetFlops.forward(c, batch, latent, latent, TEXT_TOKENS, false);
                    double[] secs = new double[options.runs()];
                    double[] adjacentFloor = new double[secs.length];
                    double[] adjacentRatio = new double[secs.length];
                    long faults = 0;
                    try (LibtorchThroughput.Adjacent floorNow =
                            new LibtorchThroughput.Adjacent(run, dtype)) {
                        for (int i = 0; i < secs.length; i++) {
                            adjacentFloor[i] = floorNow.gflops();
                            long faults0 = minorFaults();
                            long t0 = System.nanoTime();
                            forward.run();
                            secs[i] = (System.nanoTime() - t0) / 1e9;
                            faults += minorFaults() - faults0;
                            adjacentRatio[i] = flop / 1e9 / secs[i] / adjacentFloor[i];
                        }
                    }
                    long faultsPerStep = faults / secs.length;
                    java.util.Arrays.sort(secs);
                    java.util.Arrays.sort(adjacentFloor);
                    java.util.Arrays.sort(adjacentRatio);
                    double median = secs[secs.length / 2];
                    JsonObject row = new JsonObject();
                    row.addProperty("model", model);
                    row.addProperty("batch", batch);
                    row.addProperty("latent", latent);
                    row.addProperty("seconds", round(median, 4));
                    row.addProperty("min_seconds", round(secs[0], 4));
                    row.addProperty("minor_faults_per_step", faultsPerStep);
                    row.addProperty("runs", secs.length);
                    row.addProperty("gflop", round(flop / 1e9, 3));
                    row.addProperty("gflop_no_attention_matmuls", round(flopNoAttn / 1e9, 3));
                    row.addProperty("gflops", round(flop / 1e9 / median, 2));
                    row.addProperty("floor_ratio", round(flop / 1e9 / median / floorGflops, 3));
                    // Per run, against the floor measured just before it; medians over runs.
                    row.addProperty(
                            "adjacent_floor_gflops", round(adjacentFloor[secs.length / 2], 1));
                    double adjacent = adjacentRatio[secs.length / 2];
                    row.addProperty("floor_ratio_adjacent", round(adjacent, 3));
                    row.addProperty(
                            "floor_ratio_adjacent_no_attention_matmuls",
                            round(adjacent * flopNoAttn / flop, 3));
                    String calls = "";
                    if (batch == profileBatch) {
                        NativeProfile p = NativeProfile.of(forward);
                        calls = Integer.toString(p.nativeCalls());
                        JsonObject prof = new JsonObject();
                        prof.addProperty("model", model);
                        prof.addProperty("batch", batch);
                        prof.addProperty("latent", latent);
                        prof.addProperty("native_calls", p.nativeCalls());
                        prof.addProperty("kernel_seconds", round(p.kernelSeconds(), 4));
                        prof.addProperty("profiled_wall_seconds", round(p.wallSeconds(), 4));
                        prof.addProperty("java_share", round(p.javaShare(), 4));
                        JsonObject top = new JsonObject();
                        p.byOp().entrySet().stream()
                                .limit(8)
                                .forEach(
                                        e -> {
                                            JsonObject o = new JsonObject();
                                            o.addProperty("calls", (long) e.getValue()[0]);
                                            o.addProperty("seconds", round(e.getValue()[1], 4));
                                            top.add(e.getKey(), o);
                                        });
                        prof.add("top_ops", top);
                        report.getAsJsonObject("native").getAsJsonArray("unet_steps").add(prof);
                    }
                    report.getAsJsonArray("unet").add(row);
                    table.add(
                            String.format(
                                    Locale.ROOT,
                                    "%-10s %5d %6d %9.4f %9.2f %8.1f %9.2f %9.2f %7s",
                                    model,
                                    batch,
                                    latent,
                                    median,
                                    flop / 1e9,
                                    flop / 1e9 / median,
                                    flop / 1e9 / median / floorGflops,
                                    adjacent,
                                    calls));
                    log.println(table.get(table.size() - 1));
                }
            }
        }
    }

    /**
     * The UNet step at the profiled batch under each combination of convolution path and attention
     * chunk limit, rounds interleaved so that a slow spell of a shared machine hits all of them;
     * restores the settings it found.
     */
    private void ablation(String model, UNet2DConditionModel unet, NDManager manager) {
        UNetConfig c = unet.config();
        int batch = options.batches().contains(2) ? 2 : options.batches().get(0);
        // Each configuration adds one change to the one before: libtorch convolutions and 2^20
        // query chunks (round 2), whole-head 2^22 chunks, lowered convolutions, fused attention
        // (round 3; since round 4 on per-head views), libtorch's group norm + SiLU kernel (the
        // fp32 default), bfloat16 compute casting weights on every call (round 3), weights
        // prepacked once per layer with the GEGLU feed-forward in one call, bfloat16
        // self-attention (round 4), each transformer and resnet block as one call (rounds 5
        // and 6: the --dtype bf16 default).
        String[] lowerings = {
            "never", "never", "auto", "auto", "auto", "auto", "auto", "auto", "auto"
        };
        long[] limits = new long[lowerings.length];
        java.util.Arrays.fill(limits, 1L << 22);
        limits[0] = 1L << 20;
        boolean[] fused = {false, false, false, true, true, true, true, true, true};
        boolean[] groupNormKernel = {false, false, false, false, true, true, true, true, true};
        boolean[] bf16 = {false, false, false, false, false, true, true, true, true};
        boolean[] prepack = {false, false, false, false, false, false, true, true, true};
        boolean[] bf16Attention = {false, false, false, false, false, false, false, true, true};
        boolean[] blockCalls = {false, false, false, false, false, false, false, false, true};
        JsonArray rows =
                report.has("ablation") ? report.getAsJsonArray("ablation") : new JsonArray();
        report.add("ablation", rows);
        for (int latent : options.latents()) {
            try (NDManager run = manager.newSubManager()) {
                NDArray[] in = unetInputs(run, c, batch, latent);
                NDArray sample = in[0];
                NDArray t = in[1];
                NDArray ehs = in[2];
                double[][] secs = new double[lowerings.length][options.runs()];
                for (int round = -1; round < options.runs(); round++) {
                    for (int i = 0; i < secs.length; i++) {
                        ComputeOptions config =
                                compute.withConvLowering(lowerings[i])
                                        .withMaxScoreElements(limits[i])
                                        .withFusedAttention(fused[i])
                                        .withBf16(bf16[i])
                                        .withBf16Prepack(prepack[i])
                                        .withFusedGroupNorm(groupNormKernel[i])
                                        .withBf16Attention(bf16Attention[i])
                                        .withBf16Fused(blockCalls[i]);
                        long t0 = System.nanoTime();
                        try (NDScope s = new NDScope();
                                ComputeOptions.Scope cs = config.enter()) {
                            s.suppressNotUsedWarning();
                            unet.forward(sample, t, ehs);
                        }
                        if (round >= 0) { // round -1 warms every path up
                            secs[i][round] = (System.nanoTime() - t0) / 1e9;
                        }
                    }
                }
                // Each configuration against the one before it in the same round, where the
                // host's drift between rounds cancels (this machine's speed swings by up to 2×
                // within minutes): the median of those per-round ratios.
                double[] pairedRatio = new double[secs.length];
                for (int i = 1; i < secs.length; i++) {
                    double[] r = new double[options.runs()];
                    for (int round = 0; round < r.length; round++) {
                        r[round] = secs[i][round] / secs[i - 1][round];
                    }
                    java.util.Arrays.sort(r);
                    pairedRatio[i] = r[r.length / 2];
                }
                for (int i = 0; i < secs.length; i++) {
                    java.util.Arrays.sort(secs[i]);
                    String attention =
                            (fused[i]
                                            ? "fused"
                                            : "chunked 2^"
                                                    + (63 - Long.numberOfLeadingZeros(limits[i])))
                                    + (groupNormKernel[i] ? " +gn" : "")
                                    + (bf16[i] ? " +bf16" : "")
                                    + (prepack[i] ? " packed" : "")
                                    + (bf16Attention[i] ? "+attn" : "")
                                    + (blockCalls[i] ? "+block" : "");
                    JsonObject row = new JsonObject();
                    row.addProperty("model", model);
                    row.addProperty("batch", batch);
                    row.addProperty("latent", latent);
                    row.addProperty("conv_lowering", lowerings[i]);
                    row.addProperty("attention", attention);
                    row.addProperty("bf16_compute", bf16[i]);
                    row.addProperty("group_norm_kernel", groupNormKernel[i]);
                    row.addProperty("bf16_prepack", prepack[i]);
                    row.addProperty("bf16_attention", bf16Attention[i]);
                    row.addProperty("bf16_block_calls", blockCalls[i]);
                    row.addProperty("seconds", round(secs[i][secs[i].length / 2], 4));
                    row.addProperty("min_seconds", round(secs[i][0], 4));
                    if (i > 0) {
                        row.addProperty("paired_ratio_to_previous", round(pairedRatio[i], 4));
                    }
                    rows.add(row);
                    table.add(
                            String.format(
                                    Locale.ROOT,
                                    "ablation %-10s batch %d latent %d: conv lowering %-5s"
                                            + " attention %-33s %.4f s (min %.4f)%s",
                                    model,
                                    batch,
                                    latent,
                                    lowerings[i],
                                    attention,
                                    secs[i][secs[i].length / 2],
                                    secs[i][0],
                                    i == 0
                                            ? ""
                                            : String.format(
                                                    Locale.ROOT,
                                                    ", ×%.3f of the row above per round",
                                                    pairedRatio[i])));
                    log.println(table.get(table.size() - 1));
                }
            }
        }
    }

    /** One image's time split, pipeline load speed, and native memory over many images. */
    private void imageAndMemory(Path folder) throws IOException {
        long t0 = System.nanoTime();
        PipelineOptions po = PipelineOptions.defaults().withDtype(dtype).withCompute(compute);
        try (StableDiffusionPipeline pipe = StableDiffusionPipeline.load(folder, po)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            long bytes = folderBytes(folder);
            JsonObject load = new JsonObject();
            load.addProperty("model", folder.getFileName().toString());
            load.addProperty("component", "pipeline");
            load.addProperty("seconds", round(loadSeconds, 4));
            load.addProperty("bytes", bytes);
            load.addProperty("gb_per_s", round(bytes / 1e9 / loadSeconds, 3));
            report.getAsJsonArray("load").add(load);

            ImageRequest request =
                    ImageRequest.of("a photo of an astronaut riding a horse", 1)
                            .withSteps(options.steps());
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
                split.addProperty("steps", options.steps());
                split.addProperty("text_encoding_s", round(tm.encodeSeconds(), 5));
                split.addProperty("denoising_loop_s", round(tm.loopSeconds(), 5));
                split.addProperty("vae_decode_s", round(tm.decodeSeconds(), 5));
                split.addProperty("png_encode_s", round((g2 - g1) / 1e9, 5));
                split.addProperty("write_s", round((g3 - g2) / 1e9, 5));
                split.addProperty("model_hash_once_s", round(hashSeconds, 5));
                split.addProperty("generate_s", round((g1 - g0) / 1e9, 5));
                report.add("image", split);
                table.add(
                        String.format(
                                Locale.ROOT,
                                "image %dx%d, %d steps: text %.4f s, loop %.4f s, decode %.4f s,"
                                        + " png %.4f s, write %.4f s (generate %.4f s)",
                                image.width(),
                                image.height(),
                                options.steps(),
                                tm.encodeSeconds(),
                                tm.loopSeconds(),
                                tm.decodeSeconds(),
                                (g2 - g1) / 1e9,
                                (g3 - g2) / 1e9,
                                (g1 - g0) / 1e9));
            } finally {
                Files.deleteIfExists(file);
            }

            // Native memory: RSS and live arrays after 10 images and after all of them.
            JsonObject mem = new JsonObject();
            int done = 0;
            long seed = 100;
            while (done < options.images()) {
                int n = Math.min(po.maxBatchSize(), options.images() - done);
                List<ImageRequest> batch = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    batch.add(ImageRequest.of("a red bicycle", seed++).withSteps(2));
                }
                pipe.generate(batch);
                done += n;
                if (done == 10 || (done > 10 && done - n < 10)) {
                    mem.addProperty("rss_mb_after_10", procStatusMb("VmRSS"));
                    mem.addProperty("native_arrays_after_10", pipe.nativeArrayCount());
                }
            }
            mem.addProperty("images", done);
            mem.addProperty("rss_mb_after_all", procStatusMb("VmRSS"));
            mem.addProperty("native_arrays_after_all", pipe.nativeArrayCount());
            mem.addProperty("peak_rss_mb", procStatusMb("VmHWM"));
            report.add("memory", mem);
            table.add(
                    String.format(
                            Locale.ROOT,
                            "load %s: %.3f s, %.3f GB/s; memory: RSS %.0f MB after 10 images, %.0f"
                                    + " MB after %d; live arrays %d -> %d; peak RSS %.0f MB",
                            folder.getFileName(),
                            loadSeconds,
                            bytes / 1e9 / loadSeconds,
                            mem.get("rss_mb_after_10").getAsDouble(),
                            mem.get("rss_mb_after_all").getAsDouble(),
                            done,
                            mem.get("native_arrays_after_10").getAsInt(),
                            mem.get("native_arrays_after_all").getAsInt(),
                            procStatusMb("VmHWM")));
        }
    }

    // --- small helpers -------------------------------------------------------------------------

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    private static String join(List<Integer> xs) {
        StringBuilder b = new StringBuilder();
        for (int x : xs) {
            b.append(b.length() == 0 ? "" : ",").append(x);
        }
        return b.toString();
    }

    private static long folderBytes(Path dir) throws IOException {
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

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String cpuModel() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst()
                    .orElse(System.getProperty("os.arch"));
        } catch (IOException | RuntimeException e) {
            return System.getProperty("os.arch");
        }
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** This process's minor page faults so far ({@code /proc/self/stat} field 10), or 0. */
    static long minorFaults() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // Fields after the command name, which is in parentheses and may contain spaces.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[7]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** A {@code /proc/self/status} size field (kB) in MB, or -1 where there is none. */
    static double procStatusMb(String field) {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith(field + ":"))
                    .map(l -> l.replaceAll("[^0-9]", ""))
                    .mapToDouble(kb -> round(Long.parseLong(kb) / 1024.0, 1))
                    .findFirst()
                    .orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
