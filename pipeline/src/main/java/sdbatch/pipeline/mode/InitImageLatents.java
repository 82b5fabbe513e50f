package sdbatch.pipeline.mode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.image.VaeImageProcessor;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.noise.BatchNoise;

/**
 * What img2img and inpainting share before their first latents: the init pictures as the VAE's
 * input (diffusers' {@code image_processor.preprocess}) and their VAE latents sampled with each
 * image's generator ({@code _encode_vae_image} with a list of generators, {@code retrieve_latents}
 * in {@code sample} mode, times the scaling factor). Arrays are made in the caller's scope.
 */
final class InitImageLatents {
    private InitImageLatents() {}

    /**
     * The batch's init pictures resized (PIL Lanczos) to the batch's size, in [-1, 1], as one
     * float32 {@code [B, 3, H, W]} array.
     */
    static NDArray pixels(NDManager run, List<ImageRequest> batch) {
        int b = batch.size();
        int height = batch.get(0).height();
        int width = batch.get(0).width();
        float[] pixels = new float[b * 3 * height * width];
        for (int i = 0; i < b; i++) {
            VaeImageProcessor.preprocess(
                    batch.get(i).initImage(), width, height, pixels, i * 3 * height * width);
        }
        return run.create(pixels, new Shape(b, 3, height, width));
    }

    /**
     * {@code scaling_factor * latent_dist.sample(generator[i])} for each picture of {@code image}:
     * one draw of the latents' shape on each image's generator, in float32 as {@code randn_tensor}
     * makes it.
     *
     * @param shape the latents' shape the loop expects; the VAE's output must have it
     */
    // Port of diffusers StableDiffusionImg2ImgPipeline._encode_vae_image (copied into the
    // inpainting pipeline) and DiagonalGaussianDistribution.sample
    static NDArray sampled(
            NDManager run, AutoencoderKL vae, NDArray image, BatchNoise noise, Shape shape) {
        // diffusers encodes image i alone (image[i : i + 1]), which the encoder's per-image ops
        // make equal to encoding the batch at once.
        AutoencoderKL.LatentDist dist = vae.encode(image);
        if (!dist.mean().getShape().equals(shape)) {
            throw new IllegalStateException(
                    "the VAE encodes the pictures to "
                            + dist.mean().getShape()
                            + ", the loop expects latents "
                            + shape);
        }
        NDArray sampleNoise = noise.randn(run, shape);
        NDArray mean = dist.mean().toType(DataType.FLOAT32, false);
        NDArray std = dist.std().toType(DataType.FLOAT32, false);
        return mean.add(std.mul(sampleNoise)).mul((float) vae.config().scalingFactor());
    }
}
