/**
 * Weights by exact state-dict key: a bounds-checked safetensors reader, the checked loader that
 * lists missing, unexpected and misshapen tensors, and the refusal of pickle checkpoints.
 */
package sdbatch.pipeline.weights;
