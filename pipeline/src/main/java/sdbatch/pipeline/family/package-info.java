/**
 * Model families: each implements {@link sdbatch.pipeline.ModelFamily} — its text conditioning
 * (diffusers' {@code encode_prompt}) and its noise predictor (the UNet or transformer call) — for
 * the one denoising loop ({@link sdbatch.pipeline.DenoisingLoop}). {@link
 * sdbatch.pipeline.family.StableDiffusionFamily} is SD 1.x/2.x; {@link
 * sdbatch.pipeline.family.StableDiffusionXLFamily} is SDXL (two CLIP text encoders, their
 * penultimate hidden states concatenated, the second's projected pooled embedding, {@code
 * force_zeros_for_empty_prompt}, per-row {@code add_time_ids}, the UNet's {@code
 * added_cond_kwargs}); {@link sdbatch.pipeline.family.StableDiffusion3Family} is SD3 and SD3.5 (two
 * CLIPs with projection and T5, or zeros for T5's part without it, and the MMDiT); SDXL and SD3
 * load their two CLIP components alike ({@link sdbatch.pipeline.family.TwoClipEncoders}). The
 * folder's {@code model_index.json} {@code _class_name} picks the family ({@code PipelineLoader}).
 */
package sdbatch.pipeline.family;
