/**
 * Model families: each implements {@link sdbatch.pipeline.ModelFamily} — its text conditioning
 * (diffusers' {@code encode_prompt}) and its noise predictor (the UNet or transformer call) — for
 * the one denoising loop ({@link sdbatch.pipeline.DenoisingLoop}). {@link
 * sdbatch.pipeline.family.StableDiffusionFamily} is SD 1.x/2.x. SDXL's two text encoders, pooled
 * embedding and micro-conditioning go in a {@code StableDiffusionXLFamily} beside it; SD3's three
 * encoders and MMDiT in a {@code StableDiffusion3Family}.
 */
package sdbatch.pipeline.family;
