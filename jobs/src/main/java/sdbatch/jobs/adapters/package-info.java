/**
 * The files that change a job's model per row or per job (issue 18): {@link
 * sdbatch.jobs.adapters.LoraFiles} resolves the {@code loras} column, the {@code --lora} flags and
 * a prompt's {@code <lora:...>} tags to files on this host (remote ones through the model cache),
 * checks their format and hashes them once per JVM, for the planner (image ids, invalid rows) and
 * the generator (the pipeline's {@code LoraSpec}s); {@link sdbatch.jobs.adapters.ControlNetFiles}
 * does the same for the {@code controlnet} column and {@code --controlnet} (folders, content
 * hashes); {@link sdbatch.jobs.adapters.EmbeddingsFolder} is the {@code --embeddings} folder whose
 * hash joins the model identity and the executor's pipeline cache key; {@link
 * sdbatch.jobs.adapters.VaeFolder} likewise for {@code --vae} (issue 16), checked at start.
 */
package sdbatch.jobs.adapters;
