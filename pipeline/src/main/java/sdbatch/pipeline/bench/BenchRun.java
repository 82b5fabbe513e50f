package sdbatch.pipeline.bench;

import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.compute.ComputeOptions;

/**
 * One bench run in progress, shared by its parts ({@link DenoiserTiming}, {@link Ablation}, {@link
 * ImageAndMemory}, ...): the options, where progress goes, the JSON report and the table being
 * filled.
 */
final class BenchRun {
    /** The text-encoder sequence length of every UNet input the bench makes. */
    static final int TEXT_TOKENS = 77;

    final BenchOptions options;

    /** Progress lines as they are measured (stderr with {@code --json}, else stdout). */
    final PrintStream log;

    /** The dtype of weights and arrays DJL sees: float16 for {@code --dtype fp16}, else float32. */
    final DataType dtype;

    /**
     * The bench's compute choices: in force for the whole run (models it calls directly) and handed
     * to every pipeline it loads; the ablation varies them per configuration.
     */
    final ComputeOptions compute;

    /** The report written to {@link BenchOptions#out()}, filled in measurement order. */
    final JsonObject report = new JsonObject();

    /** The table printed at the end (without {@code --json}). */
    final List<String> table = new ArrayList<>();

    private double floorGflops = Double.NaN;

    BenchRun(BenchOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
        this.dtype = options.dtype().equals("fp16") ? DataType.FLOAT16 : DataType.FLOAT32;
        // bf16: float32 everywhere DJL sees, bfloat16 arithmetic inside libtorch.
        this.compute = ComputeOptions.defaults().withBf16(options.dtype().equals("bf16"));
    }

    /** Adds a line to the table and prints it now as progress. */
    void tableAndLog(String line) {
        table.add(line);
        log.println(line);
    }

    /** The batch size whose UNet step is profiled and ablated: 2 if measured, else the first. */
    int profiledBatch() {
        return options.batches().contains(2) ? 2 : options.batches().get(0);
    }

    /** The better of the start-of-run matmul and convolution throughput, GFLOP/s. */
    double floorGflops() {
        return floorGflops;
    }

    void floorGflops(double gflops) {
        floorGflops = gflops;
    }

    static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
