package sdbatch.pipeline;

import java.lang.invoke.MethodHandles;
import java.util.List;
import java.util.function.Consumer;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.schemas.util.RecordCopier;

/**
 * One image to generate, with diffusers' meaning for every field. Null fields take the model's
 * defaults ({@link StableDiffusionPipeline#resolve}): size = UNet {@code sample_size} × the VAE
 * scale factor, scheduler = the folder's, steps 50, guidance 7.5, eta 0, no clip skip.
 *
 * @param prompt the prompt; empty is allowed (diffusers allows it), null is not
 * @param negativePrompt replaces the empty unconditional prompt when guidance is on. SD 1.x/2.x
 *     encode null as {@code ""}; SDXL with {@code force_zeros_for_empty_prompt} (its base model)
 *     gives a null negative prompt zero embeddings, while {@code ""} is encoded like any text
 * @param seed the seed of a {@code torch.Generator("cpu")} (only its low 32 bits matter)
 * @param steps number of inference steps, 1..1000
 * @param guidanceScale classifier-free guidance scale; {@code <= 1} skips the unconditional pass
 * @param scheduler scheduler name (diffusers class, alias or A1111 sampler name); null = folder's
 * @param schedulerConfig JSON object of scheduler config overrides, or null
 * @param width image width in pixels, a positive multiple of 8
 * @param height image height in pixels, a positive multiple of 8
 * @param eta DDIM's eta (0 = deterministic DDIM)
 * @param clipSkip diffusers' {@code clip_skip}: layers skipped from the end of the text encoder for
 *     the prompt (the negative prompt always uses the last layer, as in diffusers)
 * @param initImage img2img's init picture (diffusers' {@code image}), resized to the request's size
 *     with PIL's Lanczos as diffusers' image processor does; null = text-to-image. A null size with
 *     an init image is the picture's own, rounded down to the VAE scale factor
 * @param strength img2img's and inpainting's {@code strength} in (0, 1]: how far into the schedule
 *     the picture is noised (1 = all steps; inpainting then starts from pure noise); null =
 *     diffusers' default, 0.8 for img2img and 1.0 for inpainting. Only with an init image
 * @param maskImage inpainting's mask (diffusers' {@code mask_image}): white = repaint, black =
 *     keep; made grayscale, resized to the request's size with PIL's Lanczos and binarized at 0.5
 *     as diffusers' mask processor does ({@link sdbatch.pipeline.image.InpaintMask}). Needs an init
 *     picture, which it need not match in size (both are resized to the request's size, as in
 *     diffusers). A null size with a mask is the UNet's default, as in diffusers' inpainting
 * @param pasteBack inpainting only, default false: the decoded image pasted over the init picture
 *     where the mask is not white (diffusers' {@code VaeImageProcessor.apply_overlay}, the mask's
 *     soft edges blending), so pixels outside the mask are exactly the init picture's instead of
 *     their trip through the VAE. False keeps diffusers' pipeline output
 * @param loras the LoRA set merged into the weights for this image, in order (empty or null =
 *     none): each file at its weight, {@code W + Σ weight × alpha / rank × up @ down}. Requests
 *     with different sets never share a batch; a set is merged once and kept for the batches that
 *     follow (see {@link sdbatch.pipeline.lora.LoraWeights})
 * @param controlNets the ControlNets applied to this image (diffusers' {@code
 *     StableDiffusionControlNetPipeline}; several are summed as its {@code MultiControlNetModel}
 *     does); null or empty = none. Not with an init image
 * @param prompt2 SDXL's and SD3's {@code prompt_2}: the second text encoder's prompt; null = {@code
 *     prompt}. Ignored by SD 1.x/2.x
 * @param negativePrompt2 {@code negative_prompt_2}; null = {@code negativePrompt}
 * @param prompt3 SD3's {@code prompt_3}: the T5 encoder's prompt; null = {@code prompt}
 * @param negativePrompt3 SD3's {@code negative_prompt_3}; null = {@code negativePrompt}
 * @param maxSequenceLength SD3's {@code max_sequence_length}: T5 tokens, 1..512; null = 256
 * @param microConditioning SDXL's size and crop conditioning ({@code add_time_ids}); null =
 *     diffusers' defaults (the image size, crop 0, 0)
 * @param guidanceRescale diffusers' {@code guidance_rescale} in [0, 1] ({@code rescale_noise_cfg},
 *     every family); null = 0 (off)
 */
public record ImageRequest(
        String prompt,
        String negativePrompt,
        long seed,
        Integer steps,
        Double guidanceScale,
        String scheduler,
        String schedulerConfig,
        Integer width,
        Integer height,
        Double eta,
        Integer clipSkip,
        RgbImage initImage,
        Double strength,
        // inpainting (StableDiffusionInpaintPipeline)
        RgbImage maskImage,
        boolean pasteBack,
        // LoRA (issue 18)
        List<LoraSpec> loras,
        // ControlNet (issue 18)
        List<ControlNetUnit> controlNets,
        // the second and third text encoders' prompts (SDXL, SD3)
        String prompt2,
        String negativePrompt2,
        String prompt3,
        String negativePrompt3,
        Integer maxSequenceLength,
        MicroConditioning microConditioning,
        Double guidanceRescale) {

    public ImageRequest {
        loras = loras == null ? List.of() : List.copyOf(loras);
        controlNets = controlNets == null ? null : List.copyOf(controlNets);
    }

    /** A request with every optional field left to the model's defaults. */
    public static ImageRequest of(String prompt, long seed) {
        return new ImageRequest(
                prompt, null, seed, null, null, null, null, null, null, null, null, null, null,
                null, false, null, null, null, null, null, null, null, null, null);
    }

    /** Whether this is an img2img request (an init picture and no mask). */
    public boolean isImageToImage() {
        return initImage != null && maskImage == null;
    }

    /** Whether this is an inpainting request (it carries a mask picture). */
    public boolean isInpainting() {
        return maskImage != null;
    }

    public ImageRequest withNegativePrompt(String v) {
        return copy(f -> f.negativePrompt = v);
    }

    public ImageRequest withSteps(int v) {
        return copy(f -> f.steps = v);
    }

    public ImageRequest withGuidanceScale(double v) {
        return copy(f -> f.guidanceScale = v);
    }

    public ImageRequest withScheduler(String name, String overridesJson) {
        return copy(
                f -> {
                    f.scheduler = name;
                    f.schedulerConfig = overridesJson;
                });
    }

    public ImageRequest withSize(int w, int h) {
        return copy(
                f -> {
                    f.width = w;
                    f.height = h;
                });
    }

    public ImageRequest withEta(double v) {
        return copy(f -> f.eta = v);
    }

    public ImageRequest withClipSkip(Integer v) {
        return copy(f -> f.clipSkip = v);
    }

    /** This request as img2img from {@code image} (null = text-to-image). */
    public ImageRequest withInitImage(RgbImage image) {
        return copy(f -> f.initImage = image);
    }

    /** img2img's and inpainting's strength (null = the pipeline's diffusers default). */
    public ImageRequest withStrength(Double v) {
        return copy(f -> f.strength = v);
    }

    /** This request as inpainting of its init picture where {@code mask} is white (null = none). */
    public ImageRequest withMaskImage(RgbImage mask) {
        return copy(f -> f.maskImage = mask);
    }

    /** Whether the decoded inpainting is pasted back over the init picture outside the mask. */
    public ImageRequest withPasteBack(boolean v) {
        return copy(f -> f.pasteBack = v);
    }

    /** This request with the LoRA set {@code v} (null or empty = none). */
    public ImageRequest withLoras(List<LoraSpec> v) {
        return copy(f -> f.loras = v);
    }

    /** Whether ControlNets apply to this request. */
    public boolean hasControlNets() {
        return controlNets != null && !controlNets.isEmpty();
    }

    /** This request with {@code units} as its ControlNets (null or empty = none). */
    public ImageRequest withControlNets(List<ControlNetUnit> units) {
        return copy(f -> f.controlNets = units);
    }

    /** This request with SDXL's/SD3's second-encoder prompts (null = the first's). */
    public ImageRequest withPrompt2(String prompt2, String negativePrompt2) {
        return copy(
                f -> {
                    f.prompt2 = prompt2;
                    f.negativePrompt2 = negativePrompt2;
                });
    }

    /** This request with SD3's T5 prompts (null = the first's). */
    public ImageRequest withPrompt3(String prompt3, String negativePrompt3) {
        return copy(
                f -> {
                    f.prompt3 = prompt3;
                    f.negativePrompt3 = negativePrompt3;
                });
    }

    /** SD3's T5 token limit (null = 256). */
    public ImageRequest withMaxSequenceLength(Integer v) {
        return copy(f -> f.maxSequenceLength = v);
    }

    /** SDXL's micro-conditioning (null = diffusers' defaults). */
    public ImageRequest withMicroConditioning(MicroConditioning v) {
        return copy(f -> f.microConditioning = v);
    }

    /** diffusers' {@code guidance_rescale} (null = 0). */
    public ImageRequest withGuidanceRescale(Double v) {
        return copy(f -> f.guidanceRescale = v);
    }

    /** Copies with a change, through {@link Fields} (checked to mirror the components). */
    private static final RecordCopier<ImageRequest, Fields> COPIER =
            RecordCopier.of(MethodHandles.lookup(), ImageRequest.class, Fields.class);

    /** This request with {@code change} applied to a mutable copy of its fields. */
    private ImageRequest copy(Consumer<Fields> change) {
        return COPIER.copy(this, change);
    }

    /** A request being copied: one mutable field per component, same name and type. */
    private static final class Fields {
        String prompt;
        String negativePrompt;
        long seed;
        Integer steps;
        Double guidanceScale;
        String scheduler;
        String schedulerConfig;
        Integer width;
        Integer height;
        Double eta;
        Integer clipSkip;
        RgbImage initImage;
        Double strength;
        RgbImage maskImage;
        boolean pasteBack;
        List<LoraSpec> loras;
        List<ControlNetUnit> controlNets;
        String prompt2;
        String negativePrompt2;
        String prompt3;
        String negativePrompt3;
        Integer maxSequenceLength;
        MicroConditioning microConditioning;
        Double guidanceRescale;
    }
}
