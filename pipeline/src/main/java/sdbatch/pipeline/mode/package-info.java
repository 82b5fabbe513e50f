/**
 * Generation modes: each implements {@link sdbatch.pipeline.GenerationMode} — the timesteps, the
 * first latents and the per-step hooks of the one denoising loop. {@link
 * sdbatch.pipeline.mode.TextToImage} is text-to-image; {@link sdbatch.pipeline.mode.ImageToImage}
 * is img2img (noised VAE latents of a picture, a schedule shortened by {@code strength}); {@link
 * sdbatch.pipeline.mode.Inpainting} is inpainting (mask and masked-image latents as extra UNet
 * input for a 9-channel UNet, or the known region blended back after each step for a 4-channel one;
 * optional paste-back). What img2img and inpainting share (the init pictures' pixels and sampled
 * VAE latents) is {@code InitImageLatents}. ControlNet is not a mode: it is an adapter ({@link
 * sdbatch.pipeline.ResidualAdapter}) that works with any mode.
 */
package sdbatch.pipeline.mode;
