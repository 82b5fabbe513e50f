/**
 * Textual-inversion embeddings ({@link sdbatch.pipeline.embeddings.TextualInversion}): a folder of
 * {@code .safetensors} files in AUTOMATIC1111's, diffusers' or SDXL's format, each adding its
 * trigger word (the file stem, and {@code trigger_1} … for more vectors) to the tokenizer and its
 * vectors to the text encoder's token embedding, as diffusers' {@code load_textual_inversion}; the
 * expansion of a trigger in a prompt is {@link
 * sdbatch.pipeline.tokenizer.CLIPTokenizer#maybeConvertPrompt}. Loaded with the pipeline ({@link
 * sdbatch.pipeline.PipelineOptions#embeddingsDir}).
 */
package sdbatch.pipeline.embeddings;
