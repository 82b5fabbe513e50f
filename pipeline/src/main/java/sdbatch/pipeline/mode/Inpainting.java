package sdbatch.pipeline.mode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import sdbatch.pipeline.GenerationMode;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.image.ImageOverlay;
import sdbatch.pipeline.image.InpaintMask;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.image.VaeImageProcessor;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.noise.BatchNoise;
import sdbatch.pipeline.schedulers.Scheduler;

/**
 * Inpainting, as diffusers' {@code StableDiffusionInpaintPipeline} (without {@code
 * padding_mask_crop}, which this project does not offer): img2img's schedule cut by {@code
 * strength}; first latents that are pure noise at strength 1 and the init picture's noised VAE
 * latents below; the mask from diffusers' mask processor ({@link InpaintMask}) and the masked
 * picture ({@code init * (mask < 0.5)}), both brought to latent size.
 *
 * <p>What the UNet gets depends on its {@code in_channels}: a 9-channel inpainting UNet gets {@code
 * [latents, mask, masked-image latents]} after {@code scale_model_input} ({@link #modelInput}); a
 * 4-channel UNet (any ordinary model) gets the latents alone and the known region is blended back
 * after every step, the init latents noised to the next timestep ({@link #afterStep}).
 *
 * <p>Each image's generator draws in diffusers' order: the init picture's VAE sample (when strength
 * is below 1 or the UNet has 4 channels), the latent noise, then the masked picture's VAE sample.
 * The last one is drawn with a 4-channel UNet too (diffusers encodes the masked picture either
 * way), which matters to schedulers that draw during the steps; its latents are then unused, so
 * only the draw is made, not the encoding.
 *
 * <p>One instance per batch: every request has the same size, steps and strength.
 */
public final class Inpainting implements GenerationMode {
    private final DataType dtype;
    private final AutoencoderKL vae;
    private final List<ImageRequest> batch;
    private final boolean blendsKnownRegion;
    private double latentTimestep = Double.NaN;

    // Kept from the first latents to the end of the batch, in the batch's manager:
    /** 9 channels: {@code [mask, masked-image latents]} for the batch, and doubled for guidance. */
    private NDArray unetExtra;

    private NDArray unetExtraDoubled;

    /** 4 channels: the latent-size mask, {@code 1 - mask}, the init latents and the noise. */
    private NDArray repaintMask;

    private NDArray keepMask;
    private NDArray imageLatents;
    private NDArray noise;

    /**
     * @param dtype the latents' dtype (the UNet's compute dtype)
     * @param vae the pipeline's VAE, whose encoder makes the init and masked-image latents
     * @param unetInChannels the UNet's {@code in_channels}: the VAE's latent channels (blending) or
     *     twice them plus one (mask and masked-image latents as extra input)
     * @param batch the checked requests of the batch, each with its init picture and mask
     */
    public Inpainting(
            DataType dtype, AutoencoderKL vae, int unetInChannels, List<ImageRequest> batch) {
        for (int i = 0; i < batch.size(); i++) {
            ImageRequest r = batch.get(i);
            if (r.initImage() == null || r.maskImage() == null || r.strength() == null) {
                throw new IllegalArgumentException(
                        "request "
                                + i
                                + " of an inpainting batch has no init image, mask or"
                                + " strength");
            }
        }
        int latentChannels = vae.config().latentChannels();
        if (unetInChannels != latentChannels && unetInChannels != 2 * latentChannels + 1) {
            throw new IllegalArgumentException(unetChannelsMessage(unetInChannels, latentChannels));
        }
        this.dtype = dtype;
        this.vae = vae;
        this.batch = List.copyOf(batch);
        this.blendsKnownRegion = unetInChannels == latentChannels;
    }

    /**
     * diffusers' rule for an inpainting UNet's {@code in_channels}, or null when it holds: the
     * latents' channels (blending), or latents + mask + masked-image latents.
     */
    public static String checkUnetChannels(int unetInChannels, int latentChannels) {
        return unetInChannels == latentChannels || unetInChannels == 2 * latentChannels + 1
                ? null
                : unetChannelsMessage(unetInChannels, latentChannels);
    }

    private static String unetChannelsMessage(int unetInChannels, int latentChannels) {
        return "the UNet takes "
                + unetInChannels
                + " input channels; inpainting needs "
                + latentChannels
                + " (the latents, the known region blended back) or "
                + (2 * latentChannels + 1)
                + " (latents, mask and masked-image latents)";
    }

    // Port of diffusers StableDiffusionInpaintPipeline.__call__ (4. set timesteps: get_timesteps,
    // latent_timestep = timesteps[:1])
    @Override
    public double[] timesteps(Scheduler scheduler, ImageRequest first) {
        double[] kept = ImageToImage.getTimesteps(scheduler, first.steps(), first.strength());
        latentTimestep = kept[0];
        return kept;
    }

    // Port of diffusers StableDiffusionInpaintPipeline.__call__ (5. preprocess, 6. prepare_latents
    // with return_noise and return_image_latents, 7. mask_processor.preprocess, masked_image,
    // prepare_mask_latents)
    @Override
    public NDArray firstLatents(NDManager run, BatchNoise draws, Shape shape, Scheduler scheduler) {
        if (Double.isNaN(latentTimestep)) {
            throw new IllegalStateException("timesteps must be prepared before the first latents");
        }
        boolean strengthMax = batch.get(0).strength() == 1.0;
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray image = InitImageLatents.pixels(run, batch);
            // prepare_latents: the init latents when they are blended in or noised (first draw)
            NDArray initLatents = null;
            if (blendsKnownRegion || !strengthMax) {
                initLatents = InitImageLatents.sampled(run, vae, image, draws, shape);
            }
            NDArray drawn = draws.randn(run, shape);
            NDArray latents =
                    strengthMax
                            ? drawn.mul(scheduler.initNoiseSigma())
                            : scheduler.addNoise(initLatents, drawn, latentTimestep);
            latents = latents.toType(dtype, false);

            float[][] masks = masks(shape);
            NDArray latentMask =
                    run.create(masks[1], new Shape(shape.get(0), 1, shape.get(2), shape.get(3)))
                            .toType(dtype, false);
            if (blendsKnownRegion) {
                // prepare_mask_latents' VAE sample of the masked picture (last draw), unused here
                draws.randn(run, shape);
                repaintMask = latentMask;
                keepMask = latentMask.neg().add(1f);
                imageLatents = initLatents.toType(dtype, false);
                noise = drawn.toType(dtype, false);
                keep(repaintMask, keepMask, imageLatents, noise);
            } else {
                NDArray pixelMask =
                        run.create(
                                masks[0],
                                new Shape(
                                        shape.get(0),
                                        1,
                                        image.getShape().get(2),
                                        image.getShape().get(3)));
                // masked_image = init_image * (mask_condition < 0.5)
                NDArray masked = image.mul(pixelMask.lt(0.5f).toType(DataType.FLOAT32, false));
                NDArray maskedLatents =
                        InitImageLatents.sampled(run, vae, masked, draws, shape)
                                .toType(dtype, false);
                unetExtra = NDArrays.concat(new NDList(latentMask, maskedLatents), 1);
                // torch.cat([mask] * 2), the same order as the doubled latents ([uncond, cond])
                unetExtraDoubled = NDArrays.concat(new NDList(unetExtra, unetExtra), 0);
                keep(unetExtra, unetExtraDoubled);
            }
            NDScope.unregister(latents);
            return latents;
        }
    }

    /** The pixel-size (index 0) and latent-size (index 1) masks of the batch, image after image. */
    private float[][] masks(Shape latentShape) {
        int b = batch.size();
        int width = batch.get(0).width();
        int height = batch.get(0).height();
        int lw = (int) latentShape.get(3);
        int lh = (int) latentShape.get(2);
        float[] pixels = new float[b * width * height];
        float[] latent = new float[b * lw * lh];
        for (int i = 0; i < b; i++) {
            InpaintMask m = InpaintMask.of(batch.get(i).maskImage(), width, height);
            System.arraycopy(m.repaint(), 0, pixels, i * width * height, width * height);
            System.arraycopy(m.toLatentSize(lw, lh), 0, latent, i * lw * lh, lw * lh);
        }
        return new float[][] {pixels, latent};
    }

    /** Takes arrays out of the current scope: they live until the batch's manager closes. */
    private static void keep(NDArray... arrays) {
        for (NDArray a : arrays) {
            NDScope.unregister(a);
        }
    }

    // Port of diffusers StableDiffusionInpaintPipeline.__call__ (7. denoising loop: the concat
    // after scale_model_input when num_channels_unet == 9)
    @Override
    public NDArray modelInput(NDArray scaledLatents) {
        if (unetExtra == null) {
            return scaledLatents;
        }
        NDArray extra =
                scaledLatents.getShape().get(0) == unetExtra.getShape().get(0)
                        ? unetExtra
                        : unetExtraDoubled;
        return NDArrays.concat(new NDList(scaledLatents, extra), 1);
    }

    // Port of diffusers StableDiffusionInpaintPipeline.__call__ (7. denoising loop: the blending
    // when num_channels_unet == 4)
    @Override
    public NDArray afterStep(NDArray latents, int index, double[] timesteps, Scheduler scheduler) {
        if (!blendsKnownRegion) {
            return latents;
        }
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            // init_latents_proper: the init latents noised to the next timestep (none after the
            // last step)
            NDArray proper =
                    index < timesteps.length - 1
                            ? scheduler.addNoise(imageLatents, noise, timesteps[index + 1])
                            : imageLatents;
            // (1 - init_mask) * init_latents_proper + init_mask * latents
            NDArray blended = keepMask.mul(proper).add(repaintMask.mul(latents));
            NDScope.unregister(blended);
            latents.close();
            return blended;
        }
    }

    /**
     * With {@link ImageRequest#pasteBack()}, the decoded image under the init picture where the
     * mask is not white ({@link ImageOverlay}); the init picture and the mask are first brought to
     * the image's size with PIL's Lanczos (diffusers' overlay takes them at that size).
     */
    @Override
    public RgbImage postprocess(int index, RgbImage image) {
        ImageRequest r = batch.get(index);
        if (!r.pasteBack()) {
            return image;
        }
        int w = image.width();
        int h = image.height();
        return ImageOverlay.apply(
                VaeImageProcessor.resize(r.maskImage(), w, h),
                VaeImageProcessor.resize(r.initImage(), w, h),
                image);
    }
}
