/**
 * Facts about the machine a pipeline computes on, and how they decide its compute paths: {@link
 * sdbatch.pipeline.compute.CpuFeatures} reads the CPU's instruction-set flags (AVX2, AVX-512,
 * AVX-512-BF16, AMX) that decide which oneDNN kernels libtorch runs, so that tests and {@code
 * sdbatch doctor} can state what they depend on; {@link sdbatch.pipeline.compute.NumericSelfCheck}
 * is the doctor's check that this machine's libtorch computes what the tests assert. {@link
 * sdbatch.pipeline.compute.ComputeOptions} holds the compute choices a pipeline owns (dtype paths,
 * strip size, attention kernel, {@code releaseFreedHeap}); {@link
 * sdbatch.pipeline.compute.NativeHeap} hands freed native heap back to the system around the VAE
 * decode (glibc {@code malloc_trim}, so one large image's peak is not stacked on the loop's freed
 * heap), and {@link sdbatch.pipeline.compute.IntraOpThreads} sets libtorch's thread count.
 */
package sdbatch.pipeline.compute;
