package sdbatch.pipeline;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.controlnet.ControlNet;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.mode.ImageToImage;
import sdbatch.pipeline.mode.Inpainting;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.schedulers.Schedulers;

/**
 * Step 1 of diffusers' {@code __call__}, {@code check_inputs}, against one loaded model: every rule
 * diffusers enforces plus this project's limits, before any tensor is made, and the model's
 * defaults for what a request leaves null.
 *
 * @param modelName the model folder's name, for messages
 * @param defaultSize UNet {@code sample_size} × the VAE scale factor
 * @param unetDownFactor 2^(UNet levels − 1)
 * @param unetInChannels the UNet's {@code in_channels} (9 for an inpainting UNet)
 * @param latentChannels the VAE's {@code latent_channels}
 * @param ownControlNet whether a ControlNet handle was loaded by this pipeline
 * @param defaults the family's defaults
 */
record RequestValidator(
        String modelName,
        SchedulerConfig schedulerConfig,
        int defaultSize,
        int vaeScaleFactor,
        int unetDownFactor,
        int textEncoderLayers,
        long maxPixels,
        int unetInChannels,
        int latentChannels,
        Predicate<ControlNet> ownControlNet,
        Defaults defaults) {

    /**
     * The family's defaults for what a request leaves null, where families differ.
     *
     * @param guidanceScale diffusers' default {@code guidance_scale} (7.5 SD, 5.0 SDXL)
     * @param imageToImageStrength diffusers' default img2img {@code strength} (0.8 SD, 0.3 SDXL)
     * @param steps diffusers' default {@code num_inference_steps} (50 SD and SDXL, 28 SD3)
     */
    record Defaults(double guidanceScale, double imageToImageStrength, int steps) {}

    /**
     * The validator of a loaded model: the folder {@code modelDir} with its scheduler config,
     * family and VAE, under the pipeline's {@code options}.
     */
    static RequestValidator forModel(
            Path modelDir,
            SchedulerConfig schedulerConfig,
            ModelFamily family,
            VaeConfig vae,
            PipelineOptions options,
            Predicate<ControlNet> ownControlNet) {
        return new RequestValidator(
                String.valueOf(modelDir.getFileName()),
                schedulerConfig,
                family.sampleSize() * vae.vaeScaleFactor(),
                vae.vaeScaleFactor(),
                family.latentSizeMultiple(),
                family.textEncoderLayers(),
                options.maxPixels(),
                family.inChannels(),
                vae.latentChannels(),
                ownControlNet,
                new Defaults(
                        family.defaultGuidanceScale(),
                        family.defaultImageToImageStrength(),
                        family.defaultSteps()));
    }

    /** The request with every null field replaced by the model's default (see ImageRequest). */
    ImageRequest resolve(ImageRequest r) {
        // img2img without a size: the picture's own, rounded down to the VAE's multiple (diffusers'
        // VaeImageProcessor.get_default_height_width); inpainting, like text-to-image, defaults to
        // the UNet's sample size (StableDiffusionInpaintPipeline.__call__ step 0); the ControlNet
        // pipeline takes its size from the (first) control picture the same way as img2img.
        RgbImage init = r.isImageToImage() ? r.initImage() : null;
        List<ControlNetUnit> controls = resolveControlNets(r.controlNets());
        RgbImage sizing = init != null || controls == null ? init : controls.get(0).image();
        int defaultWidth =
                sizing == null ? defaultSize : sizing.width() - sizing.width() % vaeScaleFactor;
        int defaultHeight =
                sizing == null ? defaultSize : sizing.height() - sizing.height() % vaeScaleFactor;
        Double strength = r.strength();
        if (strength == null && r.initImage() != null) {
            strength =
                    r.isInpainting()
                            ? StableDiffusionPipeline.DEFAULT_INPAINT_STRENGTH
                            : defaults.imageToImageStrength();
        }
        return new ImageRequest(
                r.prompt(),
                // null stays null: SDXL's force_zeros_for_empty_prompt tells a missing negative
                // prompt (zero embeddings) from an empty one (encoded); SD 1.x/2.x encode both as
                // "".
                r.negativePrompt(),
                r.seed(),
                r.steps() == null ? defaults.steps() : r.steps(),
                r.guidanceScale() == null ? defaults.guidanceScale() : r.guidanceScale(),
                r.scheduler(),
                r.schedulerConfig(),
                r.width() == null ? defaultWidth : r.width(),
                r.height() == null ? defaultHeight : r.height(),
                r.eta() == null ? 0.0 : r.eta(),
                r.clipSkip(),
                r.initImage(),
                strength,
                r.maskImage(),
                r.pasteBack(),
                r.loras(),
                controls,
                r.prompt2(),
                r.negativePrompt2(),
                r.prompt3(),
                r.negativePrompt3(),
                r.maxSequenceLength(),
                r.microConditioning(),
                r.guidanceRescale());
    }

    /** Each unit with diffusers' defaults; null for none. */
    private static List<ControlNetUnit> resolveControlNets(List<ControlNetUnit> units) {
        if (units == null || units.isEmpty()) {
            return null;
        }
        return units.stream().map(ControlNetUnit::resolved).toList();
    }

    /**
     * The resolved request, or an exception naming the argument, its value and the rule.
     *
     * @throws IllegalArgumentException for a request the model cannot run
     */
    ImageRequest check(ImageRequest request) {
        Objects.requireNonNull(request, "request");
        ImageRequest r = resolve(request);
        if (r.prompt() == null) {
            throw new IllegalArgumentException("prompt is null (an empty prompt is allowed)");
        }
        if (r.steps() < 1 || r.steps() > StableDiffusionPipeline.MAX_STEPS) {
            throw new IllegalArgumentException(
                    "steps " + r.steps() + " is outside 1.." + StableDiffusionPipeline.MAX_STEPS);
        }
        double g = r.guidanceScale();
        if (!Double.isFinite(g) || g < 0) {
            throw new IllegalArgumentException(
                    "guidance_scale " + g + " must be a finite number >= 0");
        }
        checkSize("width", r.width());
        checkSize("height", r.height());
        long pixels = (long) r.width() * r.height();
        if (pixels > maxPixels) {
            throw new IllegalArgumentException(
                    "size "
                            + r.width()
                            + "x"
                            + r.height()
                            + " has "
                            + pixels
                            + " pixels, beyond the limit of "
                            + maxPixels);
        }
        double eta = r.eta();
        if (!Double.isFinite(eta) || eta < 0) {
            throw new IllegalArgumentException("eta " + eta + " must be a finite number >= 0");
        }
        if (r.clipSkip() != null && (r.clipSkip() < 0 || r.clipSkip() >= textEncoderLayers)) {
            throw new IllegalArgumentException(
                    "clip_skip "
                            + r.clipSkip()
                            + " is outside 0.."
                            + (textEncoderLayers - 1)
                            + " (the text encoder has "
                            + textEncoderLayers
                            + " layers)");
        }
        checkGuidanceRescale(r);
        checkMicroConditioning(r);
        checkImageToImage(r);
        checkInpainting(r);
        checkControlNets(r);
        // Builds (and discards) the scheduler: an unknown name or override fails here.
        try (Scheduler s = newScheduler(r)) {
            s.config();
        }
        return r;
    }

    /** diffusers' {@code guidance_rescale} ({@code rescale_noise_cfg}): a fraction in [0, 1]. */
    private static void checkGuidanceRescale(ImageRequest r) {
        Double v = r.guidanceRescale();
        if (v != null && !(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(
                    "guidance_rescale "
                            + v
                            + " is outside [0, 1] (a fraction of the rescaled"
                            + " guidance, diffusers' rescale_noise_cfg)");
        }
    }

    /**
     * SDXL's micro-conditioning: sizes are positive pixel counts, crop coordinates not negative.
     */
    private static void checkMicroConditioning(ImageRequest r) {
        MicroConditioning m = r.microConditioning();
        if (m == null) {
            return;
        }
        positive("original_width", m.originalWidth());
        positive("original_height", m.originalHeight());
        positive("target_width", m.targetWidth());
        positive("target_height", m.targetHeight());
        notNegative("crop_top", m.cropTop());
        notNegative("crop_left", m.cropLeft());
    }

    private static void positive(String name, Integer v) {
        if (v != null && v <= 0) {
            throw new IllegalArgumentException(
                    name + " " + v + " must be a positive number of pixels");
        }
    }

    private static void notNegative(String name, Integer v) {
        if (v != null && v < 0) {
            throw new IllegalArgumentException(
                    name + " " + v + " must be at least 0 (a crop offset in pixels)");
        }
    }

    /** The request's own scheduler, on the folder's config with the request's overrides. */
    Scheduler newScheduler(ImageRequest r) {
        // diffusers passes eta only to schedulers whose step takes it (DDIM).
        return Schedulers.create(r.scheduler(), schedulerConfig, r.schedulerConfig(), r.eta());
    }

    /**
     * diffusers' img2img and inpainting {@code check_inputs}: strength in [0, 1], plus at least one
     * step run.
     */
    private static void checkImageToImage(ImageRequest r) {
        if (r.initImage() == null) {
            if (r.strength() != null) {
                throw new IllegalArgumentException(
                        "strength "
                                + r.strength()
                                + " is given without an init image (strength is img2img's and"
                                + " inpainting's: how far the init image is noised)");
            }
            return;
        }
        double strength = r.strength();
        // diffusers allows 0, which runs no step and returns the picture's latents noised at no
        // timestep at all (an error there); (0, 1] is the range that generates.
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength " + strength + " is outside (0, 1]");
        }
        if (ImageToImage.keptSteps(r.steps(), strength) < 1) {
            throw new IllegalArgumentException(
                    "strength "
                            + strength
                            + " with "
                            + r.steps()
                            + " steps runs no denoising step (int(steps × strength) = 0): raise"
                            + " steps or strength");
        }
    }

    /**
     * Inpainting's rules: a mask needs an init picture (diffusers' {@code image}), paste-back needs
     * a mask, and the UNet decides which requests it can run — an inpainting UNet (latents + mask +
     * masked-image latents in) only inpainting, an ordinary one anything. The mask need not have
     * the init picture's size: diffusers resizes each to the request's size on its own.
     */
    private void checkInpainting(ImageRequest r) {
        if (r.maskImage() != null && r.initImage() == null) {
            throw new IllegalArgumentException(
                    "mask_image is given without an init image (inpainting repaints the init"
                            + " image where the mask is white)");
        }
        if (r.pasteBack() && r.maskImage() == null) {
            throw new IllegalArgumentException(
                    "paste_back is given without a mask image (it pastes an inpainting back over"
                            + " its init image outside the mask)");
        }
        if (r.isInpainting()) {
            String problem = Inpainting.checkUnetChannels(unetInChannels, latentChannels);
            if (problem != null) {
                throw new IllegalArgumentException(problem + " (" + modelName + ")");
            }
        } else if (unetInChannels == 2 * latentChannels + 1) {
            throw new IllegalArgumentException(
                    modelName
                            + "'s UNet takes "
                            + unetInChannels
                            + " input channels, not the latents' "
                            + latentChannels
                            + ": it is an inpainting UNet, which needs an init image and a mask"
                            + " image");
        } else if (unetInChannels != latentChannels) {
            // SD3's transformer and a plain UNet take exactly the VAE's latent channels: a VAE
            // from another model (PipelineOptions.withVae), or a UNet of another kind (e.g.
            // instruct-pix2pix's 8 channels). Not "UNet": SD3's noise predictor is a transformer.
            throw new IllegalArgumentException(
                    modelName
                            + "'s noise predictor takes "
                            + unetInChannels
                            + " input channels, but its VAE's latents have "
                            + latentChannels
                            + ": the VAE comes from another model, or the noise predictor is of a"
                            + " kind this pipeline does not run");
        }
    }

    /**
     * diffusers' ControlNet {@code check_inputs} for each unit: the guidance window within [0, 1]
     * with start before end, a finite scale; plus a ControlNet this pipeline loaded, and no init
     * image (ControlNet img2img is another diffusers pipeline, not implemented).
     */
    private void checkControlNets(ImageRequest r) {
        if (!r.hasControlNets()) {
            return;
        }
        if (r.initImage() != null) {
            throw new IllegalArgumentException(
                    "ControlNet with an init image (diffusers'"
                            + " StableDiffusionControlNetImg2ImgPipeline) is not supported");
        }
        for (int k = 0; k < r.controlNets().size(); k++) {
            ControlNetUnit u = r.controlNets().get(k);
            String name = "ControlNet " + k + " (" + u.controlNet().name() + ")";
            if (!ownControlNet.test(u.controlNet())) {
                throw new IllegalArgumentException(
                        name
                                + " was not loaded by this pipeline (load it with controlNet(folder))");
            }
            double scale = u.conditioningScale();
            if (!Double.isFinite(scale)) {
                throw new IllegalArgumentException(
                        name + ": controlnet_conditioning_scale " + scale + " is not finite");
            }
            double start = u.guidanceStart();
            double end = u.guidanceEnd();
            if (!(start >= 0 && start < end && end <= 1)) {
                throw new IllegalArgumentException(
                        name
                                + ": control_guidance_start "
                                + start
                                + " and control_guidance_end "
                                + end
                                + " must satisfy 0 <= start < end <= 1");
            }
        }
    }

    private void checkSize(String name, int value) {
        if (value <= 0 || value % 8 != 0) {
            throw new IllegalArgumentException(
                    name + " " + value + " is not a positive multiple of 8 (diffusers' rule)");
        }
        int latentMultiple = vaeScaleFactor * unetDownFactor;
        if (value % latentMultiple != 0) {
            throw new IllegalArgumentException(
                    name
                            + " "
                            + value
                            + " is not a multiple of "
                            + latentMultiple
                            + " (VAE scale factor "
                            + vaeScaleFactor
                            + " × UNet down-sampling "
                            + unetDownFactor
                            + " of "
                            + modelName
                            + ")");
        }
    }
}
