/**
 * The CPU kernel work: libtorch operations DJL 0.36 has no NDArray method for, reached through
 * small TorchScript modules assembled in memory ({@link
 * sdbatch.pipeline.models.kernels.TorchScriptOps}; their sources are the {@code *.torchscript}
 * resources beside it): fused attention ({@link
 * sdbatch.pipeline.models.kernels.ScaledDotProductAttention}), libtorch's group norm ({@link
 * sdbatch.pipeline.models.kernels.GroupNormKernel}), bfloat16 compute with prepacked weights
 * ({@link sdbatch.pipeline.models.kernels.Bf16Compute}), whole blocks as one call ({@link
 * sdbatch.pipeline.models.kernels.Bf16Fused}) and the known-answer check of the bfloat16 kernels on
 * this CPU ({@link sdbatch.pipeline.models.kernels.Bf16SelfCheck}).
 *
 * <p>Each kernel is loaded once, on first use; one that cannot load (or fails its check) reports
 * why, and its callers keep their NDArray path. Layers and blocks decide when a kernel applies and
 * call its public entry points; {@code TorchScriptOps} stays private to this package. A new
 * TorchScript module, or a new fast path through libtorch, goes here.
 */
package sdbatch.pipeline.models.kernels;
