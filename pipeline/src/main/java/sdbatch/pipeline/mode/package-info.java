/**
 * Generation modes: each implements {@link sdbatch.pipeline.GenerationMode} — the timesteps, the
 * first latents and the per-step hooks of the one denoising loop. {@link
 * sdbatch.pipeline.mode.TextToImage} is text-to-image; img2img (noised VAE latents of a picture, a
 * shortened schedule by {@code strength}) and inpainting (mask and masked-image latents as extra
 * UNet input, or the known region blended back after each step) go beside it.
 */
package sdbatch.pipeline.mode;
