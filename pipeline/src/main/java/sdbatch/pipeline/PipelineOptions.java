package sdbatch.pipeline;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.lang.invoke.MethodHandles;
import java.nio.file.Path;
import java.util.function.Consumer;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.schemas.util.RecordCopier;

/**
 * How a pipeline runs: device, compute dtype and limits. CPU float32 is the default, as in
 * diffusers.
 *
 * @param device where tensors live ({@code Device.cpu()} or {@code Device.gpu(n)})
 * @param dtype compute dtype: FLOAT32, or FLOAT16 (GPU only)
 * @param maxBatchSize most images in one UNet batch (a classifier-free-guidance batch runs twice
 *     that many rows)
 * @param maxPixels largest width × height accepted (a request beyond it is refused before any
 *     tensor is made)
 * @param promptCacheSize prompt embeddings kept (sweeps repeat the same prompt many times)
 * @param compute how this pipeline computes (bf16 products, kernel choices): in force during its
 *     calls only, so pipelines with other options can share the JVM
 * @param embeddingsDir a folder of textual-inversion embeddings ({@code .safetensors}) loaded into
 *     the tokenizer and text encoder at load, each triggered by its file stem; null = none
 * @param vaeDir a diffusers {@code AutoencoderKL} folder ({@code config.json} and its weights)
 *     loaded instead of the model's {@code vae/} (users pair SDXL with a separate fp16-safe VAE),
 *     for every family; null = the model's own
 * @param withoutT5 SD3: load no T5 encoder ({@code text_encoder_3}) and use zeros for its part, as
 *     diffusers does with {@code text_encoder_3=None}; ignored by families without T5
 */
public record PipelineOptions(
        Device device,
        DataType dtype,
        int maxBatchSize,
        long maxPixels,
        int promptCacheSize,
        ComputeOptions compute,
        Path embeddingsDir,
        Path vaeDir,
        boolean withoutT5) {

    /** Default limit: 2048 × 2048 pixels, what SD 1.x/2.x can be asked for in practice. */
    public static final long MAX_PIXELS_DEFAULT = 2048L * 2048L;

    public PipelineOptions {
        if (compute == null) {
            throw new IllegalArgumentException("compute options are required");
        }
        if (compute.bf16() && (dtype != DataType.FLOAT32 || (device != null && device.isGpu()))) {
            // bf16 compute keeps float32 arrays and runs its products through CPU-checked
            // kernels; on a GPU float16 is the half-precision path.
            throw new IllegalArgumentException(
                    "bf16 compute needs float32 arrays on the CPU (device "
                            + device
                            + ", dtype "
                            + dtype
                            + "); on a GPU use float16");
        }
        if (maxBatchSize < 1) {
            throw new IllegalArgumentException("maxBatchSize " + maxBatchSize + " must be >= 1");
        }
        if (maxPixels < 64) {
            throw new IllegalArgumentException("maxPixels " + maxPixels + " must be >= 64");
        }
        if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
            // bfloat16 is left out on purpose: DJL 0.36's PyTorch engine aborts the JVM when it
            // creates or casts to a bfloat16 array.
            throw new IllegalArgumentException(
                    "dtype " + dtype + " is not a supported compute dtype (float32, float16)");
        }
        if (dtype == DataType.FLOAT16 && device != null && !device.isGpu()) {
            // libtorch's CPU float16 kernels are missing for some ops and far slower than float32
            // for the rest: refused rather than silently slow or failing mid-image.
            throw new IllegalArgumentException(
                    "float16 needs a GPU (device " + device + "); on CPU use float32 or bf16");
        }
    }

    /** CPU, float32, batches of up to 4 images. */
    public static PipelineOptions defaults() {
        return new PipelineOptions(
                Device.cpu(),
                DataType.FLOAT32,
                4,
                MAX_PIXELS_DEFAULT,
                256,
                ComputeOptions.defaults(),
                null,
                null,
                false);
    }

    public PipelineOptions withDevice(Device d) {
        return copy(f -> f.device = d);
    }

    public PipelineOptions withDtype(DataType t) {
        return copy(f -> f.dtype = t);
    }

    public PipelineOptions withMaxBatchSize(int n) {
        return copy(f -> f.maxBatchSize = n);
    }

    public PipelineOptions withMaxPixels(long n) {
        return copy(f -> f.maxPixels = n);
    }

    /** These options loading the embeddings of {@code dir} (null = none). */
    public PipelineOptions withEmbeddings(Path dir) {
        return copy(f -> f.embeddingsDir = dir);
    }

    public PipelineOptions withCompute(ComputeOptions c) {
        return copy(f -> f.compute = c);
    }

    /** These options loading the VAE of {@code dir} instead of the model's (null = its own). */
    public PipelineOptions withVae(Path dir) {
        return copy(f -> f.vaeDir = dir);
    }

    /** These options loading no T5 encoder (SD3), or the folder's when false. */
    public PipelineOptions withoutT5(boolean v) {
        return copy(f -> f.withoutT5 = v);
    }

    /** Copies with a change, through {@link Fields} (checked to mirror the components). */
    private static final RecordCopier<PipelineOptions, Fields> COPIER =
            RecordCopier.of(MethodHandles.lookup(), PipelineOptions.class, Fields.class);

    /** A copy with {@code change} applied to its fields (and checked again). */
    private PipelineOptions copy(Consumer<Fields> change) {
        return COPIER.copy(this, change);
    }

    /** Options being copied with a change: one mutable field per component, same name and type. */
    private static final class Fields {
        Device device;
        DataType dtype;
        int maxBatchSize;
        long maxPixels;
        int promptCacheSize;
        ComputeOptions compute;
        Path embeddingsDir;
        Path vaeDir;
        boolean withoutT5;
    }
}
