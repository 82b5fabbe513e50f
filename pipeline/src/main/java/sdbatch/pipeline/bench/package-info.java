/**
 * {@code sdbatch bench}: the measurements that guide performance work on the pipeline — UNet
 * forward time and GFLOP/s against libtorch's own matmul/convolution throughput on the same
 * machine, native calls and the Java share of a step, one image's time split, load speed and native
 * memory over many images. BENCHMARKS.md at the repository root explains every figure.
 *
 * <p>{@link sdbatch.pipeline.bench.Bench#run} is the entry point the CLI wraps (flags: {@link
 * sdbatch.pipeline.bench.BenchOptions}); it runs the parts in order on one {@code BenchRun} (the
 * options, the report and table being filled, the progress log): {@code MachineFacts} (what the
 * numbers were measured on, from {@code /proc} and the engine), {@code LibtorchThroughput} (the
 * floor), {@code BenchModels} (model folders, UNet load speed), {@code DenoiserTiming} (with {@link
 * sdbatch.pipeline.bench.UNetFlops} and {@link sdbatch.pipeline.bench.NativeProfile}), {@code
 * Ablation} and {@code ImageAndMemory}. {@code bench --memory DIR} is apart ({@code ModelMemory}:
 * the peak resident memory of loading a folder and generating one image with it, per phase, over
 * the weights' size; {@code --decode-only}: the VAE decoder alone, {@code DecoderMemory}).
 */
package sdbatch.pipeline.bench;
