/**
 * {@code sdbatch bench}: the measurements that guide performance work on the pipeline — UNet
 * forward time and GFLOP/s against libtorch's own matmul/convolution throughput on the same
 * machine, native calls and the Java share of a step, one image's time split, load speed and native
 * memory over many images. {@link sdbatch.pipeline.bench.Bench#run} is the entry point the CLI
 * wraps; BENCHMARKS.md at the repository root explains every figure.
 */
package sdbatch.pipeline.bench;
