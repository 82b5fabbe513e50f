package sdbatch.pipeline.compute;

import java.lang.invoke.MethodHandles;
import java.util.Locale;
import java.util.function.Consumer;
import sdbatch.schemas.util.RecordCopier;

/**
 * How a pipeline computes: its choices of kernels and precision, immutable and owned by the
 * pipeline ({@code PipelineOptions.compute()}). Where the model code reads them: {@link
 * #current()}, the options of the pipeline call running on this thread ({@link #enter}), or the
 * defaults outside any call. Two pipelines with different options — an fp32 and a bf16 one, say —
 * can run side by side in one JVM, on different threads or one after the other, and each computes
 * as its own options say.
 *
 * <p>Every choice except {@link #bf16} is a speed knob whose paths agree to float rounding; their
 * defaults come from system properties (read once) so that a benchmark or a user can switch a path
 * off without a rebuild: {@code -Dsdbatch.bf16.prepack=never}, {@code -Dsdbatch.bf16.fused=never},
 * {@code -Dsdbatch.bf16.attention=never}, {@code -Dsdbatch.attention.sdpa=never}, {@code
 * -Dsdbatch.groupnorm.fused=never}, {@code -Dsdbatch.conv.lowering=auto|never|always}, {@code
 * -Dsdbatch.attention.maxScoreElements=N}, {@code -Dsdbatch.conv.stripElements=N}, {@code
 * -Dsdbatch.malloc.trim=never}.
 *
 * @param bf16 convolutions, linear layers and self-attention in bfloat16 inside libtorch (float32
 *     arrays); {@code --dtype bf16}
 * @param bf16Prepack bfloat16 weights prepacked once per layer for oneDNN (else cast per call)
 * @param bf16Fused the UNet's transformers and resnet blocks as one libtorch call each
 * @param bf16Attention self-attention over many keys in bfloat16 when {@link #bf16} is on
 * @param fusedAttention libtorch's scaled-dot-product attention kernel (else the NDArray path)
 * @param fusedGroupNorm libtorch's group-norm kernel (else the layer-norm formulation)
 * @param convLowering {@code auto}, {@code never} (libtorch's conv2d) or {@code always} (im2col and
 *     a matrix product on CPU)
 * @param maxScoreElements most attention-score elements computed at once (chunking bound)
 * @param stripElements activations of more elements than this are convolved in strips of rows (with
 *     their group norm or upsampling) rather than whole: a memory bound ({@code
 *     StripedConvolution})
 * @param releaseFreedHeap hand the C heap's freed memory back to the system between a batch's
 *     denoising loop and its VAE decode, and after the decode ({@link NativeHeap}): the launcher's
 *     malloc settings keep up to about 1.3 GB of freed heap so that the loop's steps reuse it
 *     without page faults, which would otherwise sit under the decode's own peak
 * @param intraOpThreads libtorch intra-op threads of the calling thread during a pipeline call, or
 *     0 to leave libtorch's default (every core of the machine). A Spark executor running several
 *     tasks at once sets each task's share of the cores: left at the default, every task's calls
 *     would use all of them and the tasks would oversubscribe the CPU.
 */
public record ComputeOptions(
        boolean bf16,
        boolean bf16Prepack,
        boolean bf16Fused,
        boolean bf16Attention,
        boolean fusedAttention,
        boolean fusedGroupNorm,
        String convLowering,
        long maxScoreElements,
        long stripElements,
        boolean releaseFreedHeap,
        int intraOpThreads) {

    /** System property: {@code auto} (default) or {@code never} (every call casts its weight). */
    public static final String BF16_PREPACK_PROPERTY = "sdbatch.bf16.prepack";

    /** System property: {@code auto} (default) or {@code never} (layer by layer). */
    public static final String BF16_FUSED_PROPERTY = "sdbatch.bf16.fused";

    /** System property: {@code auto} (default) or {@code never} (attention stays float32). */
    public static final String BF16_ATTENTION_PROPERTY = "sdbatch.bf16.attention";

    /** System property: {@code auto} (default) or {@code never} (the NDArray attention path). */
    public static final String FUSED_ATTENTION_PROPERTY = "sdbatch.attention.sdpa";

    /** System property: {@code auto} (default) or {@code never} (the layer-norm formulation). */
    public static final String FUSED_GROUP_NORM_PROPERTY = "sdbatch.groupnorm.fused";

    /** System property: {@code auto} (default), {@code never} or {@code always}. */
    public static final String CONV_LOWERING_PROPERTY = "sdbatch.conv.lowering";

    /** System property that overrides the default score-matrix limit (elements). */
    public static final String MAX_SCORE_ELEMENTS_PROPERTY = "sdbatch.attention.maxScoreElements";

    /** Default limit on score elements per chunk: 2^22 (16 MiB in float32). */
    public static final long MAX_SCORE_ELEMENTS_DEFAULT = 1L << 22;

    /** System property: {@code auto} (default) or {@code never} (the heap keeps what it keeps). */
    public static final String MALLOC_TRIM_PROPERTY = "sdbatch.malloc.trim";

    /** System property: the default of {@link #stripElements}. */
    public static final String STRIP_ELEMENTS_PROPERTY = "sdbatch.conv.stripElements";

    /**
     * 32 M elements (128 MB in float32): the VAE decoder's 512² and 1024² levels of a 1024² image
     * are striped, no UNet activation of SD 1.x or SDXL at 1024² is.
     */
    public static final long STRIP_ELEMENTS_DEFAULT = 1L << 25;

    private static final ComputeOptions DEFAULTS =
            new ComputeOptions(
                    false,
                    !never(BF16_PREPACK_PROPERTY),
                    !never(BF16_FUSED_PROPERTY),
                    !never(BF16_ATTENTION_PROPERTY),
                    !never(FUSED_ATTENTION_PROPERTY),
                    !never(FUSED_GROUP_NORM_PROPERTY),
                    System.getProperty(CONV_LOWERING_PROPERTY, "auto"),
                    Long.getLong(MAX_SCORE_ELEMENTS_PROPERTY, MAX_SCORE_ELEMENTS_DEFAULT),
                    Long.getLong(STRIP_ELEMENTS_PROPERTY, STRIP_ELEMENTS_DEFAULT),
                    !never(MALLOC_TRIM_PROPERTY),
                    0);

    private static final ThreadLocal<ComputeOptions> CURRENT = new ThreadLocal<>();

    public ComputeOptions {
        convLowering = convLowering.toLowerCase(Locale.ROOT);
        if (!convLowering.equals("auto")
                && !convLowering.equals("never")
                && !convLowering.equals("always")) {
            throw new IllegalArgumentException(
                    CONV_LOWERING_PROPERTY
                            + "="
                            + convLowering
                            + ": expected auto, never or always");
        }
        if (maxScoreElements < 1) {
            throw new IllegalArgumentException(
                    "maxScoreElements must be >= 1, got " + maxScoreElements);
        }
        if (stripElements < 2) {
            throw new IllegalArgumentException("stripElements must be >= 2, got " + stripElements);
        }
        if (intraOpThreads < 0) {
            throw new IllegalArgumentException(
                    "intraOpThreads must be >= 0 (0: libtorch's default), got " + intraOpThreads);
        }
    }

    private static boolean never(String property) {
        return "never".equalsIgnoreCase(System.getProperty(property, "auto"));
    }

    /** float32, every fast path the system properties leave on. */
    public static ComputeOptions defaults() {
        return DEFAULTS;
    }

    /** The options of the pipeline call running on this thread, else {@link #defaults()}. */
    public static ComputeOptions current() {
        ComputeOptions c = CURRENT.get();
        return c != null ? c : DEFAULTS;
    }

    /**
     * Makes these the {@link #current()} options of this thread until the scope is closed, and with
     * {@link #intraOpThreads} set, this thread's libtorch intra-op threads too (restored on close).
     */
    public Scope enter() {
        ComputeOptions previous = CURRENT.get();
        CURRENT.set(this);
        Scope threads = intraOpThreads > 0 ? IntraOpThreads.set(intraOpThreads) : () -> {};
        return () -> {
            threads.close();
            if (previous == null) {
                CURRENT.remove();
            } else {
                CURRENT.set(previous);
            }
        };
    }

    /** A span of code that computes with one pipeline's options; closing restores the last. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    public ComputeOptions withBf16(boolean on) {
        return copy(f -> f.bf16 = on);
    }

    public ComputeOptions withBf16Prepack(boolean on) {
        return copy(f -> f.bf16Prepack = on);
    }

    public ComputeOptions withBf16Fused(boolean on) {
        return copy(f -> f.bf16Fused = on);
    }

    public ComputeOptions withBf16Attention(boolean on) {
        return copy(f -> f.bf16Attention = on);
    }

    public ComputeOptions withFusedAttention(boolean on) {
        return copy(f -> f.fusedAttention = on);
    }

    public ComputeOptions withFusedGroupNorm(boolean on) {
        return copy(f -> f.fusedGroupNorm = on);
    }

    public ComputeOptions withConvLowering(String value) {
        return copy(f -> f.convLowering = value);
    }

    public ComputeOptions withMaxScoreElements(long limit) {
        return copy(f -> f.maxScoreElements = limit);
    }

    /** A copy whose convolutions over more than {@code limit} elements run in strips. */
    public ComputeOptions withStripElements(long limit) {
        return copy(f -> f.stripElements = limit);
    }

    /** A copy that does (or does not) release the freed C heap around each VAE decode. */
    public ComputeOptions withReleaseFreedHeap(boolean on) {
        return copy(f -> f.releaseFreedHeap = on);
    }

    public ComputeOptions withIntraOpThreads(int threads) {
        return copy(f -> f.intraOpThreads = threads);
    }

    /** Copies with a change, through {@link Fields} (checked to mirror the components). */
    private static final RecordCopier<ComputeOptions, Fields> COPIER =
            RecordCopier.of(MethodHandles.lookup(), ComputeOptions.class, Fields.class);

    /** These options with {@code change} applied to a mutable copy of their fields. */
    private ComputeOptions copy(Consumer<Fields> change) {
        return COPIER.copy(this, change);
    }

    /** Options being copied with a change: one mutable field per component, same name and type. */
    private static final class Fields {
        boolean bf16;
        boolean bf16Prepack;
        boolean bf16Fused;
        boolean bf16Attention;
        boolean fusedAttention;
        boolean fusedGroupNorm;
        String convLowering;
        long maxScoreElements;
        long stripElements;
        boolean releaseFreedHeap;
        int intraOpThreads;
    }
}
