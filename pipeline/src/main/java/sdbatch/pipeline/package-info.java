/**
 * The Stable Diffusion pipeline on DJL's PyTorch engine: tokenizer, text encoder, UNet, VAE,
 * schedulers and image output. Never imports Spark (enforced by the build).
 */
package sdbatch.pipeline;
