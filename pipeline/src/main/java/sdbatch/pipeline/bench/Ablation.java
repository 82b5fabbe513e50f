package sdbatch.pipeline.bench;

import static sdbatch.pipeline.bench.BenchRun.round;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.UNet2DConditionModel;

/**
 * {@code --ablation}: the UNet step at the profiled batch under each {@link Configuration}, rounds
 * interleaved so that a slow spell of a shared machine hits all of them (the report's {@code
 * ablation} rows). Each configuration is in force only for its own forwards, through a {@link
 * ComputeOptions.Scope}; the run's own options are back in force after each.
 */
final class Ablation {
    /**
     * One set of compute choices.
     *
     * @param convLowering {@link ComputeOptions#withConvLowering}
     * @param maxScoreElements attention chunk limit ({@link ComputeOptions#withMaxScoreElements})
     * @param fusedAttention libtorch's fused attention
     * @param groupNormKernel libtorch's group norm + SiLU kernel
     * @param bf16 bfloat16 compute
     * @param prepack bfloat16 weights prepacked once per layer
     * @param bf16Attention bfloat16 self-attention
     * @param blockCalls each transformer and resnet block as one native call
     */
    record Configuration(
            String convLowering,
            long maxScoreElements,
            boolean fusedAttention,
            boolean groupNormKernel,
            boolean bf16,
            boolean prepack,
            boolean bf16Attention,
            boolean blockCalls) {

        ComputeOptions applyTo(ComputeOptions base) {
            return base.withConvLowering(convLowering)
                    .withMaxScoreElements(maxScoreElements)
                    .withFusedAttention(fusedAttention)
                    .withBf16(bf16)
                    .withBf16Prepack(prepack)
                    .withFusedGroupNorm(groupNormKernel)
                    .withBf16Attention(bf16Attention)
                    .withBf16Fused(blockCalls);
        }

        /** The attention path and the additions, as the table's {@code attention} column. */
        String attention() {
            return (fusedAttention
                            ? "fused"
                            : "chunked 2^" + (63 - Long.numberOfLeadingZeros(maxScoreElements)))
                    + (groupNormKernel ? " +gn" : "")
                    + (bf16 ? " +bf16" : "")
                    + (prepack ? " packed" : "")
                    + (bf16Attention ? "+attn" : "")
                    + (blockCalls ? "+block" : "");
        }
    }

    /**
     * Each configuration adds one change to the one before: libtorch convolutions and 2^20 query
     * chunks (round 2), whole-head 2^22 chunks, lowered convolutions, fused attention (round 3;
     * since round 4 on per-head views), libtorch's group norm + SiLU kernel (the fp32 default),
     * bfloat16 compute casting weights on every call (round 3), weights prepacked once per layer
     * with the GEGLU feed-forward in one call, bfloat16 self-attention (round 4), each transformer
     * and resnet block as one call (rounds 5 and 6: the --dtype bf16 default).
     */
    static final List<Configuration> CONFIGURATIONS =
            List.of(
                    new Configuration("never", 1L << 20, false, false, false, false, false, false),
                    new Configuration("never", 1L << 22, false, false, false, false, false, false),
                    new Configuration("auto", 1L << 22, false, false, false, false, false, false),
                    new Configuration("auto", 1L << 22, true, false, false, false, false, false),
                    new Configuration("auto", 1L << 22, true, true, false, false, false, false),
                    new Configuration("auto", 1L << 22, true, true, true, false, false, false),
                    new Configuration("auto", 1L << 22, true, true, true, true, false, false),
                    new Configuration("auto", 1L << 22, true, true, true, true, true, false),
                    new Configuration("auto", 1L << 22, true, true, true, true, true, true));

    private final BenchRun run;

    Ablation(BenchRun run) {
        this.run = run;
    }

    void measure(String model, UNet2DConditionModel unet, NDManager manager) {
        int batch = run.profiledBatch();
        JsonArray rows =
                run.report.has("ablation")
                        ? run.report.getAsJsonArray("ablation")
                        : new JsonArray();
        run.report.add("ablation", rows);
        for (int latent : run.options.latents()) {
            try (NDManager arrays = manager.newSubManager()) {
                UNetInputs in = UNetInputs.random(arrays, unet.config(), batch, latent);
                double[][] secs = time(unet, in);
                double[] pairedRatio = pairedRatios(secs);
                for (int i = 0; i < secs.length; i++) {
                    Arrays.sort(secs[i]);
                    Configuration config = CONFIGURATIONS.get(i);
                    JsonObject row = new JsonObject();
                    row.addProperty("model", model);
                    row.addProperty("batch", batch);
                    row.addProperty("latent", latent);
                    row.addProperty("conv_lowering", config.convLowering());
                    row.addProperty("attention", config.attention());
                    row.addProperty("bf16_compute", config.bf16());
                    row.addProperty("group_norm_kernel", config.groupNormKernel());
                    row.addProperty("bf16_prepack", config.prepack());
                    row.addProperty("bf16_attention", config.bf16Attention());
                    row.addProperty("bf16_block_calls", config.blockCalls());
                    row.addProperty("seconds", round(secs[i][secs[i].length / 2], 4));
                    row.addProperty("min_seconds", round(secs[i][0], 4));
                    if (i > 0) {
                        row.addProperty("paired_ratio_to_previous", round(pairedRatio[i], 4));
                    }
                    rows.add(row);
                    run.tableAndLog(
                            String.format(
                                    Locale.ROOT,
                                    "ablation %-10s batch %d latent %d: conv lowering %-5s"
                                            + " attention %-33s %.4f s (min %.4f)%s",
                                    model,
                                    batch,
                                    latent,
                                    config.convLowering(),
                                    config.attention(),
                                    secs[i][secs[i].length / 2],
                                    secs[i][0],
                                    i == 0
                                            ? ""
                                            : String.format(
                                                    Locale.ROOT,
                                                    ", ×%.3f of the row above per round",
                                                    pairedRatio[i])));
                }
            }
        }
    }

    /** Seconds per forward, [configuration][round], each round running every configuration. */
    private double[][] time(UNet2DConditionModel unet, UNetInputs in) {
        double[][] secs = new double[CONFIGURATIONS.size()][run.options.runs()];
        for (int round = -1; round < run.options.runs(); round++) {
            for (int i = 0; i < secs.length; i++) {
                ComputeOptions config = CONFIGURATIONS.get(i).applyTo(run.compute);
                long t0 = System.nanoTime();
                try (ComputeOptions.Scope cs = config.enter()) {
                    in.forward(unet);
                }
                if (round >= 0) { // round -1 warms every path up
                    secs[i][round] = (System.nanoTime() - t0) / 1e9;
                }
            }
        }
        return secs;
    }

    /**
     * Each configuration against the one before it in the same round, where the host's drift
     * between rounds cancels (this machine's speed swings by up to 2× within minutes): the median
     * of those per-round ratios; index 0 has none.
     */
    private static double[] pairedRatios(double[][] secs) {
        double[] pairedRatio = new double[secs.length];
        for (int i = 1; i < secs.length; i++) {
            double[] r = new double[secs[i].length];
            for (int round = 0; round < r.length; round++) {
                r[round] = secs[i][round] / secs[i - 1][round];
            }
            Arrays.sort(r);
            pairedRatio[i] = r[r.length / 2];
        }
        return pairedRatio;
    }
}
