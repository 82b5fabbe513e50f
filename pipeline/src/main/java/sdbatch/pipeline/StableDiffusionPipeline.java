package sdbatch.pipeline;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.controlnet.ControlNet;
import sdbatch.pipeline.controlnet.ControlNetAdapter;
import sdbatch.pipeline.controlnet.ControlNetFit;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.controlnet.ControlNets;
import sdbatch.pipeline.image.InpaintMask;
import sdbatch.pipeline.image.PngExport;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.pipeline.lora.LoraWeights;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.schedulers.SchedulerFit;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.pipeline.tokenizer.T5Tokenizer;
import sdbatch.pipeline.weights.ModelHash;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.schemas.GenerationRequest;

/**
 * Stable Diffusion image generation over a loaded diffusers folder, as diffusers' pipelines: check
 * inputs ({@link RequestValidator}), then per batch of compatible requests the one denoising loop
 * ({@link DenoisingLoop}) with the folder's model family ({@link ModelFamily}: text conditioning,
 * noise predictor), a generation mode ({@link GenerationMode}: text-to-image, img2img for a request
 * with an init image, inpainting for one with an init image and a mask) and the request's
 * ControlNets ({@link ResidualAdapter}, loaded once per folder by {@link #controlNet}); loading is
 * {@link PipelineLoader}'s, PNG export {@link PngExport}'s.
 *
 * <p>Several compatible requests (same LoRA set, size, steps, scheduler, overrides and eta,
 * guidance on or off, mode, strength and ControlNets) run as one batch, each with its own guidance
 * scale and noise stream, so batching does not change an image beyond float rounding. Requests are
 * grouped by LoRA set first: a set is merged into the weights once ({@link LoraWeights}) and kept
 * for the next batches and calls until a batch asks for another.
 *
 * <p>Thread-safety: the loaded weights are shared and change only on a LoRA switch, which waits
 * until no batch runs; {@link #generate} may be called from several threads at once (each call gets
 * its own scheduler, noise and native scopes; batches of different LoRA sets take turns).
 *
 * <p>Length: about 400 lines, because this is the one public entry point (a user's {@code
 * from_pretrained} and {@code __call__}) and holds only the wiring between the parts named above;
 * each part that has logic of its own is its own class.
 */
public final class StableDiffusionPipeline implements AutoCloseable {
    /** diffusers' defaults for {@code num_inference_steps}, {@code guidance_scale} and eta. */
    public static final int DEFAULT_STEPS = 50;

    public static final double DEFAULT_GUIDANCE_SCALE = 7.5;

    /** {@code StableDiffusionImg2ImgPipeline.__call__}'s default {@code strength}. */
    public static final double DEFAULT_STRENGTH = 0.8;

    /** {@code StableDiffusionInpaintPipeline.__call__}'s default {@code strength}. */
    public static final double DEFAULT_INPAINT_STRENGTH = 1.0;

    public static final int MAX_STEPS = 1000;

    private final Path modelDir;
    private final PipelineOptions options;
    private final NDManager manager;
    private final ModelFamily family;
    private final AutoencoderKL vae;
    private final RequestValidator validator;
    private final DenoisingLoop loop;
    private final LoraWeights loras;
    // LoRA sets whose files were checked against this model (headers only), most recent last.
    private final Map<List<LoraSpec>, Boolean> checkedLoraSets =
            Collections.synchronizedMap(
                    new LinkedHashMap<>(16, 0.75f, true) {
                        private static final long serialVersionUID = 1L;

                        @Override
                        protected boolean removeEldestEntry(
                                Map.Entry<List<LoraSpec>, Boolean> eldest) {
                            return size() > 256;
                        }
                    });
    private final ControlNets controlNets;
    private String modelHash;
    private final String familyName;

    /**
     * @param index the folder's {@code model_index.json}, as the loader read it
     */
    StableDiffusionPipeline(
            ModelIndex index,
            PipelineOptions options,
            NDManager manager,
            ModelFamily family,
            AutoencoderKL vae,
            SchedulerConfig schedulerConfig) {
        this.modelDir = index.dir();
        this.options = options;
        this.manager = manager;
        this.family = family;
        this.vae = vae;
        this.familyName = PipelineLoader.familyOf(index);
        this.controlNets =
                family.controlNetUnet() == null
                        ? null
                        : new ControlNets(
                                manager,
                                options.dtype(),
                                new ControlNetFit(
                                        family.controlNetUnet(),
                                        family.latentChannels(),
                                        vae.config().vaeScaleFactor()));
        this.validator =
                RequestValidator.forModel(
                        modelDir,
                        schedulerConfig,
                        family,
                        vae.config(),
                        options,
                        c -> controlNets != null && controlNets.owns(c));
        this.loop = new DenoisingLoop(family, vae);
        this.loras = new LoraWeights(family.loraComponents(), family::weightsChanged);
    }

    /**
     * Loads a diffusers pipeline folder ({@code model_index.json}, {@code tokenizer/}, {@code
     * text_encoder/}, {@code unet/}, {@code vae/}, {@code scheduler/}).
     *
     * @throws ModelLoadException naming the folder or file and the reason
     */
    public static StableDiffusionPipeline load(Path modelDir, PipelineOptions options)
            throws IOException {
        return PipelineLoader.load(modelDir, options);
    }

    /**
     * Native arrays currently alive under this pipeline's manager (weights included): constant
     * across images when every step's temporaries are released, which a test asserts.
     */
    public int nativeArrayCount() {
        return manager.getManagedArrays().size();
    }

    /**
     * The ControlNet in {@code folder} (a diffusers {@code ControlNetModel} folder: {@code
     * config.json} and {@code diffusion_pytorch_model.safetensors}), loaded into this pipeline on
     * the first call and the same handle on later ones; requests name it in a {@link
     * ControlNetUnit}. Its weights are freed with the pipeline.
     *
     * @throws ModelLoadException naming the folder and the reason, for a folder that is not a
     *     ControlNet or one that does not fit this model's UNet or VAE
     */
    public ControlNet controlNet(Path folder) throws IOException {
        if (controlNets == null) {
            throw new ModelLoadException(
                    "ControlNet "
                            + folder
                            + ": "
                            + modelDir
                            + " is a "
                            + family()
                            + " model, on which ControlNet is not supported");
        }
        return controlNets.load(folder);
    }

    /** The model folder this pipeline was loaded from. */
    public Path modelDir() {
        return modelDir;
    }

    /** The options it runs with. */
    public PipelineOptions options() {
        return options;
    }

    /**
     * The first text encoder's tokenizer (see {@link #truncations} for what a request's texts
     * lose).
     */
    public CLIPTokenizer tokenizer() {
        return family.tokenizer();
    }

    /**
     * Every CLIP tokenizer of the model by component name ({@code tokenizer}, and SDXL's {@code
     * tokenizer_2}, which pads with another token).
     */
    public Map<String, CLIPTokenizer> tokenizers() {
        return family.tokenizers();
    }

    /**
     * SD3's T5 tokenizer ({@code tokenizer_3}), or null for a family without T5 or a model loaded
     * without it: {@code T5Tokenizer.encode(text, maxSequenceLength).truncatedTokens()} tells how
     * much of a {@code prompt_3} is cut, as diffusers warns.
     */
    public T5Tokenizer t5Tokenizer() {
        return family.t5Tokenizer();
    }

    /**
     * The texts of {@code request} that the model's tokenizers cut (CLIP at 77 tokens, SD3's T5 at
     * the request's {@code max_sequence_length}), as its diffusers pipeline tokenizes them: the
     * image is made from the first tokens and diffusers only warns, so a caller that keeps
     * per-image records can say so ({@link PromptTruncation#message()}). Call it with a request
     * that {@link #checkInputs} accepts.
     */
    public List<PromptTruncation> truncations(ImageRequest request) {
        ImageRequest r = resolve(request);
        return family.truncations(r, DenoisingLoop.doClassifierFreeGuidance(r));
    }

    /** The model family the folder's {@code _class_name} names: {@code sd} or {@code sdxl}. */
    public String family() {
        return familyName;
    }

    /** The folder's scheduler config. */
    public SchedulerConfig schedulerConfig() {
        return validator.schedulerConfig();
    }

    /** Default image width and height: UNet {@code sample_size} × the VAE scale factor. */
    public int defaultSize() {
        return validator.defaultSize();
    }

    /** 2^(VAE levels − 1): pixels per latent (8 for real SD models, 2 for the tiny ones). */
    public int vaeScaleFactor() {
        return vae.config().vaeScaleFactor();
    }

    /** Layers of the text encoder (clip_skip must be below this). */
    public int textEncoderLayers() {
        return family.textEncoderLayers();
    }

    /**
     * A1111's "Model hash": the first 10 hex digits of the sha256 of the UNet weights file(s),
     * computed once on first use.
     */
    public synchronized String modelHash() {
        if (modelHash == null) {
            // the noise predictor's weights: the UNet's, or SD3's transformer's
            Path unet = modelDir.resolve("unet");
            modelHash =
                    ModelHash.ofUnet(
                            Files.isDirectory(unet) ? unet : modelDir.resolve("transformer"));
        }
        return modelHash;
    }

    /**
     * The request with every null field replaced by the model's default (see {@link ImageRequest});
     * the scheduler name stays null when the folder's is meant.
     */
    public ImageRequest resolve(ImageRequest r) {
        return validator.resolve(r);
    }

    /**
     * 1. Check inputs: every rule diffusers enforces plus our limits, before any tensor is made.
     *
     * @return the resolved request
     * @throws IllegalArgumentException naming the argument, its value and the rule
     */
    public ImageRequest checkInputs(ImageRequest request) {
        ImageRequest r = validator.check(request);
        SchedulerFit.check(r.scheduler(), family.flowMatching());
        family.checkRequest(r);
        if (!r.loras().isEmpty() && checkedLoraSets.get(r.loras()) == null) {
            loras.check(r.loras());
            checkedLoraSets.put(r.loras(), Boolean.TRUE);
        }
        return r;
    }

    /**
     * The LoRA state of the weights: the set merged now, and how many times a set was merged or the
     * base restored (a job's test counts merges with it).
     */
    public LoraWeights loraWeights() {
        return loras;
    }

    /**
     * Whether an inpainting request's mask repaints nothing: no pixel is white after diffusers'
     * mask processor at the request's resolved size ({@link InpaintMask#repaintsNothing()}). Such a
     * request still generates, as in diffusers; this lets the caller record a warning.
     *
     * @throws IllegalArgumentException when the request has no mask
     */
    public boolean maskRepaintsNothing(ImageRequest request) {
        ImageRequest r = resolve(request);
        if (!r.isInpainting()) {
            throw new IllegalArgumentException("the request has no mask image");
        }
        return InpaintMask.of(r.maskImage(), r.width(), r.height()).repaintsNothing();
    }

    /** Generates every request, in order, batching compatible ones. */
    public List<GeneratedImage> generate(List<ImageRequest> requests) {
        return generate(requests, StepCallback.NONE);
    }

    /**
     * Generates every request and returns the images in request order. All requests are checked
     * first: one invalid request fails the call before any tensor work. Compatible requests (see
     * the class comment) run together in batches of up to {@link PipelineOptions#maxBatchSize()}.
     *
     * @throws IllegalArgumentException for an invalid request, naming it by index
     * @throws CancellationException when the callback asks to stop
     * @throws NonFiniteOutputException when a batch produced NaN or infinite latents
     */
    public List<GeneratedImage> generate(List<ImageRequest> requests, StepCallback callback) {
        return generate(requests, callback, CancellationToken.NONE);
    }

    /**
     * As {@link #generate(List, StepCallback)}, stopping between denoising steps once {@code
     * cancel} says so: a cancelled job's running batch ends after the step it is in, its arrays
     * released, instead of running every remaining step and the decoder.
     *
     * @throws CancellationException when {@code cancel} or the callback stops a batch
     */
    public List<GeneratedImage> generate(
            List<ImageRequest> requests, StepCallback callback, CancellationToken cancel) {
        // This pipeline's compute choices hold for this call on this thread only.
        try (ComputeOptions.Scope scope = options.compute().enter()) {
            return generateInScope(requests, callback, cancel);
        }
    }

    private List<GeneratedImage> generateInScope(
            List<ImageRequest> requests, StepCallback callback, CancellationToken cancel) {
        List<ImageRequest> resolved = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            try {
                resolved.add(checkInputs(requests.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("request " + i + ": " + e.getMessage(), e);
            }
        }
        GeneratedImage[] out = new GeneratedImage[resolved.size()];
        for (List<Integer> idx : RequestBatches.of(resolved, options.maxBatchSize())) {
            List<ImageRequest> batch = idx.stream().map(resolved::get).toList();
            List<GeneratedImage> images = generateBatch(batch, callback, cancel);
            for (int k = 0; k < idx.size(); k++) {
                out[idx.get(k)] = images.get(k);
            }
        }
        return List.of(out);
    }

    /** One batch: its own native scope and scheduler, through the denoising loop. */
    private List<GeneratedImage> generateBatch(
            List<ImageRequest> batch, StepCallback callback, CancellationToken cancel) {
        try (LoraWeights.Lease lease = loras.use(batch.get(0).loras());
                NDManager run = manager.newSubManager();
                Scheduler scheduler = validator.newScheduler(batch.get(0))) {
            family.prepareScheduler(scheduler, batch.get(0), vaeScaleFactor());
            ResidualAdapter controls =
                    ControlNetAdapter.forBatch(
                            run, batch, DenoisingLoop.doClassifierFreeGuidance(batch.get(0)));
            GenerationMode mode =
                    GenerationMode.forBatch(batch, options.dtype(), vae, family.inChannels());
            return loop.run(run, batch, scheduler, mode, controls, callback, cancel);
        }
    }

    /**
     * The image as PNG bytes, with AUTOMATIC1111's {@code parameters} text chunk (so A1111's PNG
     * Info and civitai-style readers show the settings) and an {@code sdbatch} chunk holding the
     * full request as JSON. Deterministic: the same image gives the same bytes.
     *
     * @param modelName the model's name for the infotext ({@code Model: ...})
     */
    public byte[] toPng(GeneratedImage image, String modelName) {
        return PngExport.encode(
                new RgbImage(image.width(), image.height(), image.rgb()),
                image.toGenerationRequest(),
                image.samplerName(),
                modelName,
                modelHash());
    }

    /** As {@link GeneratedImage#toGenerationRequest()}. */
    public static GenerationRequest toGenerationRequest(GeneratedImage image) {
        return image.toGenerationRequest();
    }

    @Override
    public void close() {
        if (controlNets != null) {
            controlNets.close();
        }
        family.close();
        vae.close();
        manager.close();
    }
}
