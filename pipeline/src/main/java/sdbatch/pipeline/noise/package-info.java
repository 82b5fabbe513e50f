/**
 * Seeded noise equal to torch's CPU generator, per request and thread-safe: the same seed gives the
 * same noise in any batch, on any executor, with any number of threads.
 *
 * <p>{@link sdbatch.pipeline.noise.TorchCpuGenerator} is {@code torch.Generator("cpu")} with {@code
 * torch.randn}'s float32 sampling; {@link sdbatch.pipeline.noise.BatchNoise} is the {@link
 * sdbatch.pipeline.noise.NoiseSource} with one such generator per image (diffusers' list of
 * generators).
 */
package sdbatch.pipeline.noise;
