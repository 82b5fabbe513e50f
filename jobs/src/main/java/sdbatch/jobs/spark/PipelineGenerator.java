package sdbatch.jobs.spark;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sdbatch.jobs.adapters.ControlNetFiles;
import sdbatch.jobs.adapters.EmbeddingsFolder;
import sdbatch.jobs.adapters.LoraFiles;
import sdbatch.jobs.adapters.VaeFolder;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.jobs.pictures.PictureProblem;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.pipeline.CancellationToken;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.MicroConditioning;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.StepCallback;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.controlnet.ControlNet;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.image.PngExport;
import sdbatch.pipeline.image.PngWriter;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.ExtraConditioning;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;
import sdbatch.schemas.SchedulerConfigJson;
import sdbatch.schemas.metadata.A1111Parameters;

/**
 * The executor-side {@link Generator}: the JVM's cached {@link StableDiffusionPipeline} for (model
 * folder, device, dtype), one {@code generate} call per batch of compatible requests, one PNG per
 * image (A1111 {@code parameters} chunk and the {@code sdbatch} request JSON).
 *
 * <p>A request the pipeline refuses makes it throw for the whole batch; {@code PartitionRunner}
 * then retries the batch's requests one by one, so only the bad one fails.
 *
 * <p><b>Pictures.</b> An img2img or inpainting request's pictures are read here, on the executor,
 * from the locations the planner resolved, and must still have the content it hashed ({@link
 * PictureFiles#load(String, String)}); the last few decoded pictures are kept, so the requests a
 * sweep makes of one row read its pictures once in a task, not once per request. A picture that
 * cannot be read fails its request with the file and the reason. Inpainting requests reach the
 * pipeline in one place, {@link #toImageRequest(GenerationRequest, RgbImage, RgbImage)}.
 */
public final class PipelineGenerator implements Generator<PlannedRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineGenerator.class);

    /**
     * Images per pipeline batch in the cached pipeline: larger than any {@code --batch-size}, since
     * {@code PartitionRunner} already cuts batches to size; one cached pipeline then serves every
     * batch size.
     */
    static final int PIPELINE_MAX_BATCH = 1024;

    /** Decoded pictures kept per generator (a task): enough for a row's sweep, few in memory. */
    static final int RECENT_PICTURES = 4;

    private final StableDiffusionPipeline pipeline;
    private final String modelName;
    private final LongConsumer truncated;
    private final CancellationToken cancel;
    private final PictureFiles pictures;
    private final Map<String, RgbImage> recent =
            new LinkedHashMap<>(RECENT_PICTURES * 2, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, RgbImage> eldest) {
                    return size() > RECENT_PICTURES;
                }
            };
    // LoRA (issue 18): null = requests with LoRAs fail
    private LoraFiles loraFiles;
    // ControlNet (issue 18): null = requests with a ControlNet fail
    private ControlNetFiles controlNetFiles;
    // --vae (issue 16): named in the infotext; null = the model's own VAE
    private VaeFolder vae;

    /**
     * @param pipeline the loaded pipeline
     * @param modelName the model's name in the PNG infotext
     * @param truncated told once per prompt text that the tokenizer cut
     * @param cancel the task's cancellation, asked between denoising steps ({@link
     *     SparkTaskCancellation})
     */
    public PipelineGenerator(
            StableDiffusionPipeline pipeline,
            String modelName,
            LongConsumer truncated,
            CancellationToken cancel) {
        this(pipeline, modelName, truncated, cancel, null);
    }

    /**
     * @param pictures reads img2img and inpainting pictures; null: such requests fail
     */
    public PipelineGenerator(
            StableDiffusionPipeline pipeline,
            String modelName,
            LongConsumer truncated,
            CancellationToken cancel,
            PictureFiles pictures) {
        this.pipeline = Objects.requireNonNull(pipeline, "pipeline");
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.truncated = Objects.requireNonNull(truncated, "truncated");
        this.cancel = Objects.requireNonNull(cancel, "cancel");
        this.pictures = pictures;
    }

    /** This generator resolving LoRA files with {@code files}; returns this. */
    public PipelineGenerator withLoraFiles(LoraFiles files) {
        this.loraFiles = files;
        return this;
    }

    /** This generator naming the {@code --vae} folder in the PNG infotext (null = none). */
    public PipelineGenerator withVae(VaeFolder v) {
        this.vae = v;
        return this;
    }

    /** This generator loading ControlNets with {@code files}; returns this. */
    public PipelineGenerator withControlNetFiles(ControlNetFiles files) {
        this.controlNetFiles = files;
        return this;
    }

    /** The pipeline options of a cached pipeline on {@code device}. */
    public static PipelineOptions options(Device device, String dtype) {
        return PipelineOptions.defaults()
                .withDevice(device)
                .withDtype("fp16".equals(dtype) ? DataType.FLOAT16 : DataType.FLOAT32)
                // Owned by the cached pipeline (keyed by dtype): jobs with other --dtype values
                // can share the executor JVM. Threads: this executor's cores shared among the
                // tasks it runs at once (constant for an executor, so the cache key omits them).
                .withCompute(
                        ComputeOptions.defaults()
                                .withBf16("bf16".equals(dtype))
                                .withIntraOpThreads(TaskThreads.forThisExecutor()))
                .withMaxBatchSize(PIPELINE_MAX_BATCH);
    }

    /**
     * The JVM's pipeline for ({@code localDir} with {@code contentHash}, {@code device}, {@code
     * dtype}), loaded on first use ({@link ExecutorPipelineCache}); every task on that device
     * shares it.
     */
    public static StableDiffusionPipeline pipeline(
            Path localDir, String contentHash, GpuAssignment device, String dtype) {
        return pipeline(localDir, contentHash, device, dtype, null, null);
    }

    /**
     * The JVM's pipeline as above, with the textual-inversion embeddings of {@code embeddingsDir}
     * (content hash {@code embeddingsHash}; both null = none) loaded: the embeddings are part of
     * the cache key, as the pipeline's tokenizer and text encoder differ with them.
     */
    public static StableDiffusionPipeline pipeline(
            Path localDir,
            String contentHash,
            GpuAssignment device,
            String dtype,
            Path embeddingsDir,
            String embeddingsHash) {
        return pipeline(
                localDir,
                contentHash,
                device,
                dtype,
                embeddingsDir,
                embeddingsHash,
                null,
                null,
                false);
    }

    /**
     * The JVM's pipeline as above, with its VAE loaded from {@code vaeDir} (content hash {@code
     * vaeHash}; both null = the model's own; {@code --vae}, issue 16) and, for SD3, without its T5
     * encoder ({@code --without-t5}, issue 19): both are part of the cache key.
     */
    public static StableDiffusionPipeline pipeline(
            Path localDir,
            String contentHash,
            GpuAssignment device,
            String dtype,
            Path embeddingsDir,
            String embeddingsHash,
            Path vaeDir,
            String vaeHash,
            boolean withoutT5) {
        // The driver refused what it could foresee; a task's device is known only here.
        String refused = DtypeSupport.refusal(dtype, device.djlDevice().isGpu());
        if (refused != null) {
            throw new StartupException(refused + " (task device " + device.device() + ")");
        }
        if ("bf16".equals(dtype)) {
            Bf16Compute.requireAvailable();
        }
        // Before the first image: libtorch's warnings (NNPACK's, once per image on CPUs without
        // it) follow TORCH_CPP_LOG_LEVEL, which bin/sdbatch sets to ERROR unless --verbose.
        TorchLogging.applyFromEnvironment();
        ExecutorPipelineCache.Key key =
                new ExecutorPipelineCache.Key(
                        localDir
                                + "#sha256="
                                + contentHash
                                + (embeddingsDir == null
                                        ? ""
                                        : "+embeddings#sha256=" + embeddingsHash)
                                + (vaeDir == null ? "" : "+vae#sha256=" + vaeHash)
                                + (withoutT5 ? "+without-t5" : ""),
                        device.device(),
                        dtype);
        return ExecutorPipelineCache.shared()
                .get(
                        key,
                        k ->
                                StableDiffusionPipeline.load(
                                        localDir,
                                        options(device.djlDevice(), dtype)
                                                .withEmbeddings(embeddingsDir)
                                                .withVae(vaeDir)
                                                .withoutT5(withoutT5)));
    }

    /**
     * The factory the job ships to executors: resolve the model folder (copying a remote model once
     * per host), refuse it unless its content hash is the driver's, take the cached pipeline for
     * the task's device, wrap it with the task's cancellation (opened on the task's thread, where
     * {@code TaskContext.get()} is the task's).
     *
     * @param contentHash the driver's {@link ModelContent#hash} of the model, which is in every
     *     image id of the run
     * @param pictures reads the requests' pictures (the planner's reader), or null
     */
    public static GenerateJob.GeneratorFactory factory(
            ModelSpec spec,
            String dtype,
            String modelName,
            String contentHash,
            LongConsumerSerializable truncated,
            PictureFiles pictures,
            LoraFiles loraFiles,
            ControlNetFiles controlNetFiles,
            EmbeddingsFolder embeddings) {
        return factory(
                spec,
                dtype,
                modelName,
                contentHash,
                truncated,
                pictures,
                loraFiles,
                controlNetFiles,
                embeddings,
                null,
                false);
    }

    /**
     * The factory as above, with the {@code --vae} folder (null = the model's own VAE) and {@code
     * --without-t5} (issues 16, 19).
     */
    public static GenerateJob.GeneratorFactory factory(
            ModelSpec spec,
            String dtype,
            String modelName,
            String contentHash,
            LongConsumerSerializable truncated,
            PictureFiles pictures,
            LoraFiles loraFiles,
            ControlNetFiles controlNetFiles,
            EmbeddingsFolder embeddings,
            VaeFolder vae,
            boolean withoutT5) {
        return device -> {
            Path local = spec.localDir();
            checkContent(spec, local, contentHash);
            Path embeddingsDir = embeddings == null ? null : embeddings.localChecked(spec);
            Path vaeDir = vae == null ? null : vae.localChecked(spec);
            return new PipelineGenerator(
                            pipeline(
                                    local,
                                    contentHash,
                                    device,
                                    dtype,
                                    embeddingsDir,
                                    embeddings == null ? null : embeddings.sha256(),
                                    vaeDir,
                                    vae == null ? null : vae.sha256(),
                                    withoutT5),
                            modelName,
                            truncated,
                            SparkTaskCancellation.forCurrentTask(),
                            pictures)
                    .withLoraFiles(loraFiles)
                    .withControlNetFiles(controlNetFiles)
                    .withVae(vae);
        };
    }

    /**
     * Refuses a model copy whose content is not what the driver planned with (the source changed
     * during the run, or this host's folder is another version): its images would carry image ids
     * and a {@code model} column that claim other weights, and {@code --resume} would skip them
     * forever. The caller fails the task rather than its rows: another executor's copy may be
     * right, and if none is, the job stops with this message instead of writing N failed rows.
     */
    static void checkContent(ModelSpec spec, Path local, String expected) throws IOException {
        String actual = ModelContent.hash(local);
        if (!actual.equals(expected)) {
            throw new IllegalStateException(
                    "model "
                            + spec.redacted()
                            + " at "
                            + local
                            + " has content sha256 "
                            + actual
                            + " on this executor, but the driver planned the run with "
                            + expected
                            + ": the model changed during the run or this host's copy differs;"
                            + " refusing to generate images under the driver's model identity");
        }
    }

    /** A serializable {@link LongConsumer} (an accumulator's {@code add}). */
    public interface LongConsumerSerializable extends LongConsumer, java.io.Serializable {}

    /**
     * The pipeline's form of a request. A null negative prompt stays null (SDXL: zero embeddings;
     * the planner keeps it null only on such a model), and the SDXL/SD3 columns and guidance
     * rescale (issues 16, 19) go to their {@link ImageRequest} fields, null where not set.
     */
    public static ImageRequest toImageRequest(GenerationRequest r) {
        ImageRequest q =
                new ImageRequest(
                        r.prompt(),
                        r.negativePrompt(),
                        r.seed(),
                        r.steps(),
                        r.guidanceScale(),
                        r.scheduler(),
                        SchedulerConfigJson.EMPTY.equals(r.schedulerConfig())
                                ? null
                                : r.schedulerConfig(),
                        r.width(),
                        r.height(),
                        r.eta(),
                        r.clipSkip());
        ExtraConditioning e = r.extra();
        if (e == null) {
            return q;
        }
        MicroConditioning micro =
                new MicroConditioning(
                        e.originalWidth(),
                        e.originalHeight(),
                        e.cropTop(),
                        e.cropLeft(),
                        e.targetWidth(),
                        e.targetHeight());
        return q.withPrompt2(e.prompt2(), e.negativePrompt2())
                .withPrompt3(e.prompt3(), e.negativePrompt3())
                .withMaxSequenceLength(e.maxSequenceLength())
                .withMicroConditioning(micro.isDefault() ? null : micro)
                .withGuidanceRescale(e.guidanceRescale());
    }

    /**
     * The pipeline's form of an img2img or inpainting request: the text-to-image fields, the init
     * picture and the strength, and for inpainting the mask and {@code paste_back}.
     *
     * @param init the decoded init picture
     * @param mask the decoded mask, null unless inpainting
     */
    static ImageRequest toImageRequest(GenerationRequest r, RgbImage init, RgbImage mask) {
        InputPictures p = r.pictures();
        ImageRequest q = toImageRequest(r).withInitImage(init).withStrength(p.strength());
        if (mask != null) {
            q = q.withMaskImage(mask).withPasteBack(p.pasteBack());
        }
        return q;
    }

    /** The request's decoded picture with this hash, read now unless it is a recent one. */
    private RgbImage picture(String uri, String sha256) throws PictureProblem {
        RgbImage image = recent.get(sha256);
        if (image == null) {
            if (pictures == null) {
                throw new PictureProblem(
                        "picture " + uri + " cannot be read: this generator reads no pictures");
            }
            image = pictures.load(uri, sha256);
            recent.put(sha256, image);
        }
        return image;
    }

    @Override
    public List<GeneratedPng> generate(List<PlannedRequest> batch) throws PictureProblem {
        List<ImageRequest> requests = new ArrayList<>(batch.size());
        for (PlannedRequest p : batch) {
            GenerationRequest r = p.request();
            InputPictures pics = r.pictures();
            ImageRequest q;
            if (pics == null) {
                q = toImageRequest(r);
            } else {
                RgbImage init = picture(pics.initImage(), pics.initImageSha256());
                RgbImage mask =
                        pics.isInpainting()
                                ? picture(pics.maskImage(), pics.maskImageSha256())
                                : null;
                q = toImageRequest(r, init, mask);
            }
            requests.add(withAdapters(q, r));
        }
        // A killed task's batch stops between steps (CancellationException), not after them all.
        List<GeneratedImage> images = pipeline.generate(requests, StepCallback.NONE, cancel);
        List<GeneratedPng> out = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            GeneratedImage image = images.get(i);
            GenerationRequest request = batch.get(i).request();
            // After generate: the pipeline checked the request, so its truncations can be asked.
            String cut = truncationWarning(request, requests.get(i));
            GeneratedImage.Timings t = image.timings();
            int n = Math.max(1, t.batchSize());
            // Encoded where it is stored (PartitionRunner's writer thread, while the next batch
            // denoises); it reads only the image and the pipeline's once-computed model hash.
            out.add(
                    GeneratedPng.deferred(
                                    () -> toPng(image, request),
                                    Math.round(t.encodeSeconds() * 1000 / n),
                                    Math.round(t.loopSeconds() * 1000 / n),
                                    Math.round(t.decodeSeconds() * 1000 / n))
                            .withWarning(cut));
        }
        return out;
    }

    /**
     * The request with its LoRA set (issue 18): each file on this host, checked against the hash
     * the planner put in the image id.
     */
    private ImageRequest withAdapters(ImageRequest q, GenerationRequest r) throws PictureProblem {
        Adapters a = r.adapters();
        if (a == null) {
            return q;
        }
        if (!a.loras().isEmpty()) {
            if (loraFiles == null) {
                throw new IllegalStateException("this generator reads no LoRA files");
            }
            List<LoraSpec> set = new ArrayList<>();
            for (Adapters.Lora l : a.loras()) {
                set.add(loraFiles.spec(l));
            }
            q = q.withLoras(set);
        }
        Adapters.ControlNetUse cn = a.controlNet();
        if (cn != null) {
            q = q.withControlNets(List.of(controlNetUnit(cn)));
        }
        return q;
    }

    /**
     * The pipeline's unit of a ControlNet use: the folder on this host (checked against the content
     * hash the planner put in the image id), loaded once into the pipeline (it keeps one handle per
     * folder), and the control picture read again and checked against its hash.
     */
    private ControlNetUnit controlNetUnit(Adapters.ControlNetUse cn) throws PictureProblem {
        if (controlNetFiles == null) {
            throw new IllegalStateException("this generator reads no ControlNets");
        }
        String actual = controlNetFiles.sha256(cn.uri());
        if (!actual.equals(cn.sha256())) {
            throw new IllegalStateException(
                    "ControlNet "
                            + cn.uri()
                            + " changed since the job planned it (content hash "
                            + actual
                            + ", planned "
                            + cn.sha256()
                            + ")");
        }
        ControlNet controlNet;
        try {
            controlNet = pipeline.controlNet(controlNetFiles.local(cn.uri()));
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "ControlNet " + cn.uri() + " cannot be loaded: " + e.getMessage(), e);
        }
        return new ControlNetUnit(
                controlNet,
                picture(cn.controlImage(), cn.controlImageSha256()),
                cn.conditioningScale(),
                cn.guidanceStart(),
                cn.guidanceEnd());
    }

    /**
     * The PNG of an image: {@link StableDiffusionPipeline#toPng}'s, with the request's pictures
     * (locations, hashes, strength), LoRAs / ControlNet, SDXL/SD3 columns and guidance rescale, and
     * a null negative prompt kept null (issues 16, 19), in its {@code sdbatch} chunk; A1111's
     * {@code Denoising strength}, {@code Lora hashes}, and with {@code --vae} its {@code VAE hash}
     * and {@code VAE}, in its infotext.
     */
    private byte[] toPng(GeneratedImage image, GenerationRequest request) {
        InputPictures pics = request.pictures();
        Adapters adapters = request.adapters();
        if (pics == null
                && adapters == null
                && request.extra() == null
                && request.negativePrompt() != null
                && vae == null) {
            return pipeline.toPng(image, modelName);
        }
        GenerationRequest resolved =
                StableDiffusionPipeline.toGenerationRequest(image)
                        .withPictures(pics)
                        .withAdapters(adapters)
                        .withExtra(request.extra())
                        .withNegativePrompt(request.negativePrompt());
        RgbImage rgb = new RgbImage(image.width(), image.height(), image.rgb());
        if (vae == null) {
            return PngExport.encode(
                    rgb, resolved, image.samplerName(), modelName, pipeline.modelHash());
        }
        // PngExport's infotext, plus A1111's VAE keys.
        A1111Parameters base = A1111Parameters.of(resolved, modelName, pipeline.modelHash());
        Map<String, String> params = new LinkedHashMap<>(base.params());
        params.put("Sampler", image.samplerName());
        A1111Parameters infotext =
                new A1111Parameters(base.prompt(), base.negativePrompt(), params)
                        .withVae(vae.name(), vae.weightsSha256());
        return PngWriter.encode(rgb, infotext.toInfotext(), resolved.toJson());
    }

    /**
     * A CUDA context fault ({@link DeviceFaults}; not a request's problem nor out of memory), or
     * any failure of a pipeline that another task of this executor already evicted and closed after
     * such a fault: this task must then reopen too, not fail its remaining rows on a closed one.
     */
    @Override
    public boolean poisonsPipeline(Throwable failure) {
        return DeviceFaults.poisonsDevice(failure)
                || !ExecutorPipelineCache.shared().holds(pipeline);
    }

    /**
     * Evicts this generator's pipeline from the executor's cache and closes it, so the next open
     * (this task's, via {@code ReopeningGenerator}, or a later task's) loads it afresh.
     */
    @Override
    public void discardPipeline() throws Exception {
        ExecutorPipelineCache.shared().evict(pipeline);
    }

    /**
     * The warning of a request whose prompt texts the model's tokenizers cut (CLIP's 77 tokens,
     * SD3's T5 at {@code max_sequence_length}; {@link StableDiffusionPipeline#truncations}), each
     * counted and logged, or null when nothing was cut: diffusers warns and generates, and so does
     * the job, in the row's {@code warning} column.
     */
    private String truncationWarning(GenerationRequest r, ImageRequest q) {
        List<PromptTruncation> cuts = pipeline.truncations(q);
        for (PromptTruncation c : cuts) {
            truncated.accept(1);
            LOG.warn("{}: {}", r.sourceId(), c.message());
        }
        return PromptTruncation.messages(cuts);
    }
}
