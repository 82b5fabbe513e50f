/**
 * Model families: each implements {@link sdbatch.pipeline.ModelFamily} — its text conditioning
 * (diffusers' {@code encode_prompt}) and its noise predictor (the UNet or transformer call) — for
 * the one denoising loop ({@link sdbatch.pipeline.DenoisingLoop}). {@link
 * sdbatch.pipeline.family.StableDiffusionFamily} is SD 1.x/2.x. SDXL's two text encoders, pooled
 * embedding and micro-conditioning go in a {@code StableDiffusionXLFamily} beside it; {@link
 * sdbatch.pipeline.family.StableDiffusion3Family} is SD3 and SD3.5: two CLIPs with projection and
 * T5 (or zeros for T5's part without it), and the MMDiT transformer.
 */
package sdbatch.pipeline.family;
