/**
 * Weights by exact state-dict key: a strict safetensors reader, the checked loader that lists
 * missing, unexpected and misshapen tensors, and the refusal of pickle checkpoints.
 *
 * <p>A model file is untrusted input that may also change under a running job, so: the header is
 * parsed strictly ({@code SafetensorsHeader}: no duplicate names, only exact 64-bit integers,
 * offsets inside the file and matching dtype × shape); every shape the config implies is checked
 * against the headers before a tensor is read or allocated ({@link
 * sdbatch.pipeline.weights.StateDictWeights#checkShapes}); and tensors are read through positional
 * file reads into memory libtorch owns, never mapped, so truncating or rewriting a file under a job
 * is an exception naming the file and the tensor (at load) or harmless (after it), never a SIGBUS
 * that kills the JVM.
 *
 * <p>{@link sdbatch.pipeline.weights.LiveParameters} keeps a loaded component's arrays by key for
 * LoRA merges (changed in place, restored from the files) and the {@link
 * sdbatch.pipeline.weights.DerivedCache}s layers made from them (registered through {@link
 * sdbatch.pipeline.weights.Weights#derived}), which a change drops.
 */
package sdbatch.pipeline.weights;
