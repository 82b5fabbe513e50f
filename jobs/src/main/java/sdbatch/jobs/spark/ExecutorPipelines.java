package sdbatch.jobs.spark;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Path;
import sdbatch.jobs.adapters.ControlNetFiles;
import sdbatch.jobs.adapters.EmbeddingsFolder;
import sdbatch.jobs.adapters.LoraFiles;
import sdbatch.jobs.adapters.VaeFolder;
import sdbatch.jobs.cli.StartupException;
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.kernels.Bf16Compute;

/**
 * Opening the executor's pipeline: the JVM's cached {@link StableDiffusionPipeline} for (model
 * folder and content hash, device, dtype, embeddings, VAE, {@code --without-t5}) in {@link
 * ExecutorPipelineCache}, its {@link PipelineOptions}, and the {@link GenerateJob.GeneratorFactory}
 * the job ships to executors, which refuses a model copy whose content hash is not the driver's and
 * wraps the pipeline in a {@link PipelineGenerator}.
 */
public final class ExecutorPipelines {
    /**
     * Images per pipeline batch in the cached pipeline: larger than any {@code --batch-size}, since
     * {@code PartitionRunner} already cuts batches to size; one cached pipeline then serves every
     * batch size.
     */
    static final int PIPELINE_MAX_BATCH = 1024;

    private ExecutorPipelines() {}

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
        return pipeline(localDir, contentHash, device, dtype, null, null, null, null, false);
    }

    /**
     * The JVM's pipeline as above, with the textual-inversion embeddings of {@code embeddingsDir}
     * (content hash {@code embeddingsHash}; both null = none) loaded, its VAE loaded from {@code
     * vaeDir} (content hash {@code vaeHash}; both null = the model's own; {@code --vae}, issue 16)
     * and, for SD3, without its T5 encoder ({@code --without-t5}, issue 19): all are part of the
     * cache key, as the pipeline's tokenizer, text encoders or VAE differ with them.
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
     * @param vae the {@code --vae} folder, null = the model's own VAE (issue 16)
     * @param withoutT5 {@code --without-t5} (issue 19)
     */
    public static GenerateJob.GeneratorFactory factory(
            ModelSpec spec,
            String dtype,
            String modelName,
            String contentHash,
            PipelineGenerator.LongConsumerSerializable truncated,
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
                    .withAdapters(loraFiles, controlNetFiles, vae);
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
}
