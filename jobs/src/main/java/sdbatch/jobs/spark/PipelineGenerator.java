package sdbatch.jobs.spark;

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
import sdbatch.jobs.adapters.LoraFiles;
import sdbatch.jobs.adapters.VaeFolder;
import sdbatch.jobs.generate.GeneratedPng;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.jobs.pictures.PictureProblem;
import sdbatch.pipeline.CancellationToken;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.StepCallback;
import sdbatch.pipeline.controlnet.ControlNet;
import sdbatch.pipeline.controlnet.ControlNetUnit;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.pipeline.tokenizer.PromptTruncation;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;

/**
 * The executor-side {@link Generator}: the JVM's cached {@link StableDiffusionPipeline} for (model
 * folder, device, dtype), one {@code generate} call per batch of compatible requests, one PNG per
 * image (A1111 {@code parameters} chunk and the {@code sdbatch} request JSON).
 *
 * <p>Opened by {@link ExecutorPipelines#factory} on the task's thread; requests become the
 * pipeline's form in {@link ImageRequests}, images PNGs with infotext in {@link InfotextPng}.
 *
 * <p>A request the pipeline refuses makes it throw for the whole batch; {@code PartitionRunner}
 * then retries the batch's requests one by one, so only the bad one fails.
 *
 * <p><b>Pictures.</b> An img2img or inpainting request's pictures are read here, on the executor,
 * from the locations the planner resolved, and must still have the content it hashed ({@link
 * PictureFiles#load(String, String)}); the last few decoded pictures are kept, so the requests a
 * sweep makes of one row read its pictures once in a task, not once per request. A picture that
 * cannot be read fails its request with the file and the reason. Inpainting requests reach the
 * pipeline in one place, {@link ImageRequests#toImageRequest(GenerationRequest, RgbImage,
 * RgbImage)}.
 */
public final class PipelineGenerator implements Generator<PlannedRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineGenerator.class);

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

    /**
     * This generator resolving LoRAs with {@code loraFiles} and loading ControlNets with {@code
     * controlNetFiles} (null: requests that name one fail), and naming the {@code --vae} folder
     * {@code vae} in the PNG infotext (null: the model's own VAE); returns this.
     */
    public PipelineGenerator withAdapters(
            LoraFiles loraFiles, ControlNetFiles controlNetFiles, VaeFolder vae) {
        this.loraFiles = loraFiles;
        this.controlNetFiles = controlNetFiles;
        this.vae = vae;
        return this;
    }

    /** A serializable {@link LongConsumer} (an accumulator's {@code add}). */
    public interface LongConsumerSerializable extends LongConsumer, java.io.Serializable {}

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
                q = ImageRequests.toImageRequest(r);
            } else {
                RgbImage init = picture(pics.initImage(), pics.initImageSha256());
                RgbImage mask =
                        pics.isInpainting()
                                ? picture(pics.maskImage(), pics.maskImageSha256())
                                : null;
                q = ImageRequests.toImageRequest(r, init, mask);
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
                                    () ->
                                            InfotextPng.encode(
                                                    pipeline, modelName, vae, image, request),
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
        Path folder = controlNetFiles.localChecked(cn.uri(), cn.sha256());
        ControlNet controlNet;
        try {
            controlNet = pipeline.controlNet(folder);
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
