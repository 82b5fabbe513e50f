/**
 * The Stable Diffusion pipeline on DJL's PyTorch engine. Never imports Spark (enforced by the
 * build).
 *
 * <p>Where things are: {@link sdbatch.pipeline.StableDiffusionPipeline} is the entry point (load a
 * diffusers folder, check requests, batch them, export PNGs); {@link
 * sdbatch.pipeline.PipelineLoader} loads a folder's components; {@link
 * sdbatch.pipeline.RequestValidator} is diffusers' {@code check_inputs}; {@link
 * sdbatch.pipeline.DenoisingLoop} is the one loop (encode prompts, timesteps, first latents,
 * denoise with guidance, decode, postprocess) with two named seams:
 *
 * <ul>
 *   <li>{@link sdbatch.pipeline.ModelFamily} ({@code family/}): text conditioning and the noise
 *       predictor — SD 1.x/2.x and SDXL (two encoders, pooled embedding, micro-conditioning as the
 *       UNet's added conditions), chosen by the folder's {@code _class_name} in {@code
 *       PipelineLoader}'s table. The loop applies guidance (and {@code guidance_rescale}, per row)
 *       the same way for every family.
 *   <li>{@link sdbatch.pipeline.GenerationMode} ({@code mode/}): timesteps, first latents and
 *       per-step hooks — text-to-image and img2img ({@code ImageToImage}, chosen per batch by
 *       whether the requests carry an init picture); inpainting goes in a mode beside them.
 * </ul>
 *
 * <p>Adapters sit beside the seams: a {@link sdbatch.pipeline.ResidualAdapter} adds residuals to
 * the noise predictor's skip connections at every step — a batch's ControlNets ({@code
 * controlnet/}, loaded once per folder by {@link
 * sdbatch.pipeline.StableDiffusionPipeline#controlNet}).
 *
 * <p>Beside them: {@code models/} (networks named as their checkpoints), {@code schedulers/} (one
 * per diffusers class), {@code compute/} (compute options and machine facts), {@code tokenizer/},
 * {@code weights/}, {@code noise/}, {@code image/} (postprocessing and PNG export), {@code
 * config/}, {@code tiny/} (random-weight test models), {@code bench/}.
 */
package sdbatch.pipeline;
