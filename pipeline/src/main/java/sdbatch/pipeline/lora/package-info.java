/**
 * LoRA networks merged into a loaded model's weights, as AUTOMATIC1111 and diffusers' {@code
 * fuse_lora} do it: every changed layer's weight becomes {@code W + Σ weight × alpha / rank × up @
 * down}.
 *
 * <p>{@link sdbatch.pipeline.lora.LoraSpec} is one LoRA of a request's set ({@link
 * sdbatch.pipeline.ImageRequest#loras}); {@link sdbatch.pipeline.lora.LoraWeights} holds the set a
 * pipeline's weights carry now, merges a new one in place once (reused by every batch of that set),
 * and on a switch writes back the base values from the model's safetensors files ({@link
 * sdbatch.pipeline.weights.LiveParameters}), drops the prepacked bfloat16 copies and tells the
 * family (cached prompt embeddings); it counts merges and restores. {@link
 * sdbatch.pipeline.lora.LoraFile} reads kohya / A1111 and diffusers / PEFT files from their header
 * and refuses LyCORIS, DoRA and pickle files by name; {@link sdbatch.pipeline.lora.LoraTargets}
 * resolves each layer to the parameter it changes, checking the shape, and names the key it cannot
 * place (a LoRA for another model family).
 */
package sdbatch.pipeline.lora;
