package sdbatch.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.stream.Stream;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.config.ModelIndex;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.image.ImagePostprocessor;
import sdbatch.pipeline.image.PngWriter;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.models.CLIPTextModel;
import sdbatch.pipeline.models.UNet2DConditionModel;
import sdbatch.pipeline.noise.BatchNoise;
import sdbatch.pipeline.schedulers.Scheduler;
import sdbatch.pipeline.schedulers.Schedulers;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.SchedulerConfigJson;
import sdbatch.schemas.metadata.A1111Parameters;

/**
 * Text-to-image Stable Diffusion, laid out as diffusers' {@code StableDiffusionPipeline.__call__}
 * (pipeline_stable_diffusion.py): check inputs, encode prompts, prepare timesteps, prepare latents,
 * denoising loop with classifier-free guidance, decode, postprocess.
 *
 * <p>Semantics kept exactly: guidance runs iff {@code guidance_scale > 1}, unconditional first in
 * the batched UNet call ({@code [uncond, cond]}), latents are seeded noise × {@code
 * init_noise_sigma}, one torch CPU generator per image. Several compatible requests (same size,
 * steps, scheduler and overrides, guidance on or off) run as one batch, each with its own guidance
 * scale and noise stream, so batching does not change an image beyond float rounding.
 *
 * <p>Thread-safety: the loaded weights are read-only and shared; {@link #generate} may be called
 * from several threads at once (each call gets its own scheduler, noise and native scopes).
 */
public final class StableDiffusionPipeline implements AutoCloseable {
    /** diffusers' defaults for {@code num_inference_steps}, {@code guidance_scale} and eta. */
    public static final int DEFAULT_STEPS = 50;

    public static final double DEFAULT_GUIDANCE_SCALE = 7.5;
    public static final int MAX_STEPS = 1000;

    private final Path modelDir;
    private final PipelineOptions options;
    private final NDManager manager;
    private final CLIPTokenizer tokenizer;
    private final CLIPTextModel textEncoder;
    private final UNet2DConditionModel unet;
    private final AutoencoderKL vae;
    private final SchedulerConfig schedulerConfig;
    private final int vaeScaleFactor;
    private final int unetDownFactor;
    private final PromptCache promptCache;
    private volatile String modelHash;

    private StableDiffusionPipeline(
            Path modelDir,
            PipelineOptions options,
            NDManager manager,
            CLIPTokenizer tokenizer,
            CLIPTextModel textEncoder,
            UNet2DConditionModel unet,
            AutoencoderKL vae,
            SchedulerConfig schedulerConfig) {
        this.modelDir = modelDir;
        this.options = options;
        this.manager = manager;
        this.tokenizer = tokenizer;
        this.textEncoder = textEncoder;
        this.unet = unet;
        this.vae = vae;
        this.schedulerConfig = schedulerConfig;
        this.vaeScaleFactor = vae.config().vaeScaleFactor();
        this.unetDownFactor = 1 << (unet.config().blockOutChannels().size() - 1);
        this.promptCache = new PromptCache(options.promptCacheSize());
    }

    /**
     * Loads a diffusers pipeline folder ({@code model_index.json}, {@code tokenizer/}, {@code
     * text_encoder/}, {@code unet/}, {@code vae/}, {@code scheduler/}).
     *
     * @throws ModelLoadException naming the folder or file and the reason
     */
    public static StableDiffusionPipeline load(Path modelDir, PipelineOptions options)
            throws IOException {
        ModelIndex index = ModelIndex.load(modelDir);
        NDManager manager = NDManager.newBaseManager(options.device());
        try {
            DataType dtype = options.dtype();
            CLIPTokenizer tokenizer = CLIPTokenizer.load(index.componentDir("tokenizer"));
            CLIPTextModel textEncoder =
                    CLIPTextModel.load(index.componentDir("text_encoder"), manager, dtype);
            UNet2DConditionModel unet =
                    UNet2DConditionModel.load(index.componentDir("unet"), manager, dtype);
            // diffusers keeps the VAE in float32 when its config says force_upcast (SD 1.x/2.x
            // VAEs overflow in fp16); so do we.
            Path vaeDir = index.componentDir("vae");
            DataType vaeDtype =
                    dtype != DataType.FLOAT32 && VaeConfig.load(vaeDir).forceUpcast()
                            ? DataType.FLOAT32
                            : dtype;
            AutoencoderKL vae = AutoencoderKL.load(vaeDir, manager, vaeDtype);
            SchedulerConfig schedulerConfig =
                    SchedulerConfig.read(
                            index.componentDir("scheduler").resolve("scheduler_config.json"));
            return new StableDiffusionPipeline(
                    modelDir, options, manager, tokenizer, textEncoder, unet, vae, schedulerConfig);
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * Native arrays currently alive under this pipeline's manager (weights included): constant
     * across images when every step's temporaries are released, which a test asserts.
     */
    public int nativeArrayCount() {
        return manager.getManagedArrays().size();
    }

    /** The model folder this pipeline was loaded from. */
    public Path modelDir() {
        return modelDir;
    }

    /** The options it runs with. */
    public PipelineOptions options() {
        return options;
    }

    /** The tokenizer (the job's {@code tokenize} command and truncation warnings use it). */
    public CLIPTokenizer tokenizer() {
        return tokenizer;
    }

    /** The folder's scheduler config. */
    public SchedulerConfig schedulerConfig() {
        return schedulerConfig;
    }

    /** Default image width and height: UNet {@code sample_size} × the VAE scale factor. */
    public int defaultSize() {
        return unet.config().sampleSize() * vaeScaleFactor;
    }

    /** 2^(VAE levels − 1): pixels per latent (8 for real SD models, 2 for the tiny ones). */
    public int vaeScaleFactor() {
        return vaeScaleFactor;
    }

    /** Layers of the text encoder (clip_skip must be below this). */
    public int textEncoderLayers() {
        return textEncoder.numHiddenLayers();
    }

    /**
     * A1111's "Model hash": the first 10 hex digits of the sha256 of the UNet weights file(s),
     * computed once on first use.
     */
    public String modelHash() {
        String h = modelHash;
        if (h == null) {
            synchronized (this) {
                if (modelHash == null) {
                    modelHash = computeModelHash(modelDir.resolve("unet"));
                }
                h = modelHash;
            }
        }
        return h;
    }

    private static String computeModelHash(Path unetDir) {
        try (Stream<Path> files = Files.list(unetDir)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (Path p :
                    files.filter(f -> f.toString().endsWith(".safetensors")).sorted().toList()) {
                try (InputStream in = Files.newInputStream(p)) {
                    for (int n; (n = in.read(buf)) > 0; ) {
                        sha.update(buf, 0, n);
                    }
                }
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 10);
        } catch (IOException e) {
            throw new ModelLoadException("cannot hash the UNet weights in " + unetDir, e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The request with every null field replaced by the model's default (see {@link ImageRequest});
     * the scheduler name stays null when the folder's is meant.
     */
    public ImageRequest resolve(ImageRequest r) {
        int size = defaultSize();
        return new ImageRequest(
                r.prompt(),
                r.negativePrompt() == null ? "" : r.negativePrompt(),
                r.seed(),
                r.steps() == null ? DEFAULT_STEPS : r.steps(),
                r.guidanceScale() == null ? DEFAULT_GUIDANCE_SCALE : r.guidanceScale(),
                r.scheduler(),
                r.schedulerConfig(),
                r.width() == null ? size : r.width(),
                r.height() == null ? size : r.height(),
                r.eta() == null ? 0.0 : r.eta(),
                r.clipSkip());
    }

    /**
     * 1. Check inputs: every rule diffusers enforces plus our limits, before any tensor is made.
     *
     * @return the resolved request
     * @throws IllegalArgumentException naming the argument, its value and the rule
     */
    public ImageRequest checkInputs(ImageRequest request) {
        Objects.requireNonNull(request, "request");
        ImageRequest r = resolve(request);
        if (r.prompt() == null) {
            throw new IllegalArgumentException("prompt is null (an empty prompt is allowed)");
        }
        if (r.steps() < 1 || r.steps() > MAX_STEPS) {
            throw new IllegalArgumentException(
                    "steps " + r.steps() + " is outside 1.." + MAX_STEPS);
        }
        double g = r.guidanceScale();
        if (!Double.isFinite(g) || g < 0) {
            throw new IllegalArgumentException(
                    "guidance_scale " + g + " must be a finite number >= 0");
        }
        checkSize("width", r.width());
        checkSize("height", r.height());
        long pixels = (long) r.width() * r.height();
        if (pixels > options.maxPixels()) {
            throw new IllegalArgumentException(
                    "size "
                            + r.width()
                            + "x"
                            + r.height()
                            + " has "
                            + pixels
                            + " pixels, beyond the limit of "
                            + options.maxPixels());
        }
        double eta = r.eta();
        if (!Double.isFinite(eta) || eta < 0) {
            throw new IllegalArgumentException("eta " + eta + " must be a finite number >= 0");
        }
        if (r.clipSkip() != null
                && (r.clipSkip() < 0 || r.clipSkip() >= textEncoder.numHiddenLayers())) {
            throw new IllegalArgumentException(
                    "clip_skip "
                            + r.clipSkip()
                            + " is outside 0.."
                            + (textEncoder.numHiddenLayers() - 1)
                            + " (the text encoder has "
                            + textEncoder.numHiddenLayers()
                            + " layers)");
        }
        // Builds (and discards) the scheduler: an unknown name or override fails here.
        try (Scheduler s = newScheduler(r)) {
            s.config();
        }
        return r;
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
                            + modelDir.getFileName()
                            + ")");
        }
    }

    private Scheduler newScheduler(ImageRequest r) {
        // diffusers passes eta only to schedulers whose step takes it (DDIM).
        return Schedulers.create(r.scheduler(), schedulerConfig, r.schedulerConfig(), r.eta());
    }

    /** Generates every request, in order, batching compatible ones. */
    public List<GeneratedImage> generate(List<ImageRequest> requests) {
        return generate(requests, StepCallback.NONE);
    }

    /**
     * Generates every request and returns the images in request order. All requests are checked
     * first: one invalid request fails the call before any tensor work. Compatible requests (same
     * size, steps, scheduler, overrides and eta, guidance on or off) run together in batches of up
     * to {@link PipelineOptions#maxBatchSize()}.
     *
     * @throws IllegalArgumentException for an invalid request, naming it by index
     * @throws CancellationException when the callback asks to stop
     * @throws NonFiniteOutputException when a batch produced NaN or infinite latents
     */
    public List<GeneratedImage> generate(List<ImageRequest> requests, StepCallback callback) {
        // This pipeline's compute choices hold for this call on this thread only.
        try (ComputeOptions.Scope scope = options.compute().enter()) {
            return generateInScope(requests, callback);
        }
    }

    private List<GeneratedImage> generateInScope(
            List<ImageRequest> requests, StepCallback callback) {
        List<ImageRequest> resolved = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            try {
                resolved.add(checkInputs(requests.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("request " + i + ": " + e.getMessage(), e);
            }
        }
        Map<BatchKey, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < resolved.size(); i++) {
            groups.computeIfAbsent(BatchKey.of(resolved.get(i)), k -> new ArrayList<>()).add(i);
        }
        GeneratedImage[] out = new GeneratedImage[resolved.size()];
        for (List<Integer> group : groups.values()) {
            for (int from = 0; from < group.size(); from += options.maxBatchSize()) {
                List<Integer> idx =
                        group.subList(from, Math.min(group.size(), from + options.maxBatchSize()));
                List<ImageRequest> batch = idx.stream().map(resolved::get).toList();
                List<GeneratedImage> images = generateBatch(batch, callback);
                for (int k = 0; k < idx.size(); k++) {
                    out[idx.get(k)] = images.get(k);
                }
            }
        }
        return List.of(out);
    }

    /** What must agree for requests to share a UNet batch. */
    private record BatchKey(
            int width,
            int height,
            int steps,
            String scheduler,
            String overrides,
            double eta,
            boolean guidance) {
        static BatchKey of(ImageRequest r) {
            return new BatchKey(
                    r.width(),
                    r.height(),
                    r.steps(),
                    r.scheduler() == null ? "" : r.scheduler().toLowerCase(java.util.Locale.ROOT),
                    r.schedulerConfig() == null ? "" : r.schedulerConfig(),
                    r.eta(),
                    doClassifierFreeGuidance(r));
        }
    }

    private static boolean doClassifierFreeGuidance(ImageRequest r) {
        // diffusers: do_classifier_free_guidance = guidance_scale > 1
        return r.guidanceScale() > 1.0;
    }

    private List<GeneratedImage> generateBatch(List<ImageRequest> batch, StepCallback callback) {
        ImageRequest first = batch.get(0);
        int b = batch.size();
        boolean cfg = doClassifierFreeGuidance(first);
        try (NDManager run = manager.newSubManager();
                Scheduler scheduler = newScheduler(first)) {
            long t0 = System.nanoTime();
            // 3. Encode input prompts: [uncond..., cond...] when guidance is on, as diffusers
            // concatenates them.
            NDArray promptEmbeds = encodePrompts(run, batch, cfg);
            long t1 = System.nanoTime();

            // 4. Prepare timesteps
            scheduler.setTimesteps(first.steps());
            double[] timesteps = scheduler.timesteps();

            // 5. Prepare latent variables: one torch CPU generator per image
            int h = first.height() / vaeScaleFactor;
            int w = first.width() / vaeScaleFactor;
            BatchNoise noise =
                    BatchNoise.ofSeeds(batch.stream().mapToLong(ImageRequest::seed).toArray());
            NDArray latents = prepareLatents(run, noise, new Shape(b, 4, h, w), scheduler);

            // 6. Per-image guidance scales, broadcast over C, H, W.
            float[] scales = new float[b];
            for (int i = 0; i < b; i++) {
                scales[i] = batch.get(i).guidanceScale().floatValue();
            }
            NDArray guidance = run.create(scales, new Shape(b, 1, 1, 1));

            // 7. Denoising loop
            for (int i = 0; i < timesteps.length; i++) {
                latents =
                        denoiseStep(
                                run,
                                latents,
                                promptEmbeds,
                                guidance,
                                cfg,
                                timesteps[i],
                                scheduler,
                                noise);
                if (!callback.onStep(i, timesteps.length, timesteps[i])) {
                    throw new CancellationException(
                            "cancelled after step " + (i + 1) + " of " + timesteps.length);
                }
            }
            long t2 = System.nanoTime();

            // 8. Decode: latents / scaling_factor through the VAE decoder
            float[] latentValues = latents.toType(DataType.FLOAT32, false).toFloatArray();
            checkFinite(latentValues, batch);
            NDArray image = decode(run, latents);
            float[] pixels = image.toType(DataType.FLOAT32, false).toFloatArray();
            long t3 = System.nanoTime();

            // 9. Postprocess: (x / 2 + 0.5).clamp(0, 1), round(x * 255), HWC
            GeneratedImage.Timings timings =
                    new GeneratedImage.Timings(
                            (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9, b);
            String schedulerName = Schedulers.canonicalName(scheduler);
            String samplerName = Schedulers.a1111Name(scheduler);
            List<GeneratedImage> out = new ArrayList<>(b);
            int latentSize = 4 * h * w;
            for (int i = 0; i < b; i++) {
                byte[] rgb =
                        ImagePostprocessor.toRgb8(pixels, i, first.height(), first.width()).rgb();
                float[] lat = new float[latentSize];
                System.arraycopy(latentValues, i * latentSize, lat, 0, latentSize);
                out.add(
                        new GeneratedImage(
                                batch.get(i),
                                schedulerName,
                                samplerName,
                                first.width(),
                                first.height(),
                                rgb,
                                lat,
                                timings));
            }
            return out;
        }
    }

    private NDArray encodePrompts(NDManager run, List<ImageRequest> batch, boolean cfg) {
        List<NDArray> cond = new ArrayList<>();
        List<NDArray> uncond = new ArrayList<>();
        for (ImageRequest r : batch) {
            int clipSkip = r.clipSkip() == null ? 0 : r.clipSkip();
            cond.add(promptEmbedding(run, r.prompt(), clipSkip));
            if (cfg) {
                // diffusers: negative_prompt None -> [""]; a negative prompt replaces it. Its
                // encode_prompt applies clip_skip to the prompt only: the unconditional embeddings
                // always come from the last layer (text_encoder(...)[0]).
                String negative = r.negativePrompt() == null ? "" : r.negativePrompt();
                uncond.add(promptEmbedding(run, negative, 0));
            }
        }
        List<NDArray> all = new ArrayList<>(uncond);
        all.addAll(cond);
        return NDArrays.concat(new NDList(all), 0);
    }

    /** [1, 77, hidden] for one prompt, from the cache or the text encoder. */
    private NDArray promptEmbedding(NDManager run, String prompt, int clipSkip) {
        PromptCache.Entry hit = promptCache.get(prompt, clipSkip);
        if (hit == null) {
            CLIPTokenizer.Encoding enc = tokenizer.encode(prompt);
            try (NDManager scope = run.newSubManager()) {
                NDArray ids = scope.create(enc.inputIds(), new Shape(1, enc.inputIds().length));
                NDArray hidden = textEncoder.encode(ids, clipSkip);
                hit =
                        new PromptCache.Entry(
                                hidden.toType(DataType.FLOAT32, false).toFloatArray(),
                                hidden.getShape().getShape());
                hidden.close();
            }
            promptCache.put(prompt, clipSkip, hit);
        }
        return run.create(hit.values(), new Shape(hit.shape())).toType(options.dtype(), false);
    }

    private NDArray prepareLatents(
            NDManager run, BatchNoise noise, Shape shape, Scheduler scheduler) {
        // diffusers: randn_tensor(shape, generator=[...]) in float32 on CPU, then moved, then
        // latents * scheduler.init_noise_sigma.
        NDArray drawn = noise.randn(run, shape);
        NDArray latents = drawn.mul(scheduler.initNoiseSigma()).toType(options.dtype(), false);
        drawn.close();
        return latents;
    }

    private NDArray denoiseStep(
            NDManager run,
            NDArray latents,
            NDArray promptEmbeds,
            NDArray guidance,
            boolean cfg,
            double t,
            Scheduler scheduler,
            BatchNoise noise) {
        try (NDScope step = new NDScope()) {
            step.suppressNotUsedWarning();
            // expand the latents if we are doing classifier free guidance
            NDArray modelInput = cfg ? NDArrays.concat(new NDList(latents, latents), 0) : latents;
            modelInput = scheduler.scaleModelInput(modelInput, t);
            NDArray timestep = run.create((float) t);
            NDArray noisePred = unet.forward(modelInput, timestep, promptEmbeds);
            NDScope.register(noisePred);
            if (cfg) {
                // perform guidance: uncond + scale * (text - uncond), per image
                NDList parts = noisePred.split(2, 0);
                NDArray uncond = parts.get(0);
                NDArray text = parts.get(1);
                noisePred = uncond.add(text.sub(uncond).mul(guidance));
            }
            // compute the previous noisy sample x_t -> x_t-1
            NDArray next = scheduler.step(noisePred, t, latents, noise).prevSample();
            NDScope.unregister(next);
            if (next != latents) {
                latents.close();
            }
            return next;
        }
    }

    private NDArray decode(NDManager run, NDArray latents) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            float scaling = (float) vae.config().scalingFactor();
            NDArray scaled = latents.toType(vae.dtype(), false).div(scaling);
            NDArray image = vae.decode(scaled);
            NDScope.register(image);
            NDArray out = image.toType(DataType.FLOAT32, false);
            if (out == image) {
                NDScope.unregister(image);
            } else {
                NDScope.unregister(out);
            }
            return out;
        }
    }

    private static void checkFinite(float[] latents, List<ImageRequest> batch) {
        for (float v : latents) {
            if (!Float.isFinite(v)) {
                throw new NonFiniteOutputException(
                        "the denoising loop produced NaN or infinite latents for seeds "
                                + batch.stream().map(ImageRequest::seed).toList()
                                + " (refusing to write a black image)");
            }
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
        GenerationRequest request = toGenerationRequest(image);
        A1111Parameters base = A1111Parameters.of(request, modelName, modelHash());
        // The A1111 sampler name follows the scheduler that actually ran, overrides included
        // ("DPM++ 2M" with use_karras_sigmas is "DPM++ 2M Karras").
        Map<String, String> params = new LinkedHashMap<>(base.params());
        params.put("Sampler", image.samplerName());
        A1111Parameters infotext =
                new A1111Parameters(base.prompt(), base.negativePrompt(), params);
        return PngWriter.encode(
                new RgbImage(image.width(), image.height(), image.rgb()),
                infotext.toInfotext(),
                request.toJson());
    }

    /** The resolved request of an image in the schemas' form (what metadata and PNGs carry). */
    public static GenerationRequest toGenerationRequest(GeneratedImage image) {
        ImageRequest r = image.request();
        return new GenerationRequest(
                r.prompt(),
                r.negativePrompt() == null ? "" : r.negativePrompt(),
                r.seed(),
                r.steps(),
                r.guidanceScale(),
                image.schedulerName(),
                r.schedulerConfig() == null
                        ? SchedulerConfigJson.EMPTY
                        : SchedulerConfigJson.canonical(r.schedulerConfig()),
                r.width(),
                r.height(),
                r.eta(),
                r.clipSkip() == null ? 0 : r.clipSkip(),
                0,
                "",
                0,
                Map.of());
    }

    @Override
    public void close() {
        textEncoder.close();
        unet.close();
        vae.close();
        manager.close();
    }
}
