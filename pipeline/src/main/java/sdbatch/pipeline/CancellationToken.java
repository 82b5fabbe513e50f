package sdbatch.pipeline;

/**
 * Asked by the denoising loop before it encodes prompts, before every step and before decoding: a
 * batch whose token says "cancelled" stops there with {@link
 * java.util.concurrent.CancellationException}, so a cancelled job (Spark's {@code
 * TaskContext.isInterrupted()} in the jobs module) stops its tasks between steps instead of
 * finishing every image of a running batch. A plain interface: the pipeline never sees Spark.
 *
 * <p>Called on the generating thread, once per step: it must be cheap and must not block.
 */
@FunctionalInterface
public interface CancellationToken {
    /** Whether the work this token belongs to has been cancelled. */
    boolean isCancellationRequested();

    /** A token that is never cancelled. */
    CancellationToken NONE = () -> false;
}
