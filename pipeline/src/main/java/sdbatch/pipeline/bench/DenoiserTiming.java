package sdbatch.pipeline.bench;

import static sdbatch.pipeline.bench.BenchRun.round;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import java.util.Arrays;
import java.util.Locale;

/**
 * One model's denoiser forward (a UNet, or SD3's transformer) timed at every {@code --latents} ×
 * {@code --batches}: seconds, GFLOP/s against libtorch's throughput at the start of the run and
 * right before each forward (the report's {@code unet} rows), and, at the profiled batch, the
 * native calls and Java share of a step ({@code native.unet_steps}).
 */
final class DenoiserTiming {
    private final BenchRun run;

    DenoiserTiming(BenchRun run) {
        this.run = run;
    }

    void time(String model, TimedDenoiser<?> denoiser, NDManager manager) {
        for (int latent : run.options.latents()) {
            for (int batch : run.options.batches()) {
                try (NDManager arrays = manager.newSubManager()) {
                    timeCase(model, denoiser, arrays, batch, latent);
                }
            }
        }
    }

    private void timeCase(
            String model, TimedDenoiser<?> denoiser, NDManager arrays, int batch, int latent) {
        Runnable forward = denoiser.forwardOn(arrays, batch, latent);
        forward.run(); // warm-up: allocator, oneDNN primitive caches
        long flop = denoiser.flop(batch, latent, true);
        long flopNoAttn = denoiser.flop(batch, latent, false);
        double[] secs = new double[run.options.runs()];
        double[] adjacentFloor = new double[secs.length];
        double[] adjacentRatio = new double[secs.length];
        long faults = 0;
        try (LibtorchThroughput.Adjacent floorNow =
                new LibtorchThroughput.Adjacent(arrays, run.dtype)) {
            for (int i = 0; i < secs.length; i++) {
                adjacentFloor[i] = floorNow.gflops();
                long faults0 = MachineFacts.minorFaults();
                long t0 = System.nanoTime();
                forward.run();
                secs[i] = (System.nanoTime() - t0) / 1e9;
                faults += MachineFacts.minorFaults() - faults0;
                adjacentRatio[i] = flop / 1e9 / secs[i] / adjacentFloor[i];
            }
        }
        long faultsPerStep = faults / secs.length;
        Arrays.sort(secs);
        Arrays.sort(adjacentFloor);
        Arrays.sort(adjacentRatio);
        double median = secs[secs.length / 2];
        double floorGflops = run.floorGflops();
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
        row.addProperty("adjacent_floor_gflops", round(adjacentFloor[secs.length / 2], 1));
        double adjacent = adjacentRatio[secs.length / 2];
        row.addProperty("floor_ratio_adjacent", round(adjacent, 3));
        row.addProperty(
                "floor_ratio_adjacent_no_attention_matmuls",
                round(adjacent * flopNoAttn / flop, 3));
        String calls = "";
        if (batch == run.profiledBatch()) {
            NativeProfile p = NativeProfile.of(forward);
            calls = Integer.toString(p.nativeCalls());
            run.report
                    .getAsJsonObject("native")
                    .getAsJsonArray("unet_steps")
                    .add(profileJson(p, model, batch, latent));
        }
        run.report.getAsJsonArray("unet").add(row);
        run.tableAndLog(
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
    }

    /** A {@code native.unet_steps} entry: native calls, kernel time, Java share, top 8 ops. */
    private static JsonObject profileJson(NativeProfile p, String model, int batch, int latent) {
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
        return prof;
    }
}
