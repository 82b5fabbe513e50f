/**
 * Facts about the machine a pipeline computes on, and how they decide its compute paths: {@link
 * sdbatch.pipeline.compute.CpuFeatures} reads the CPU's instruction-set flags (AVX2, AVX-512,
 * AVX-512-BF16, AMX) that decide which oneDNN kernels libtorch runs, so that tests and {@code
 * sdbatch doctor} can state what they depend on.
 */
package sdbatch.pipeline.compute;
