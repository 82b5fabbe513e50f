package sdbatch.jobs.spark;

import org.apache.spark.TaskContext;
import sdbatch.pipeline.CancellationToken;

/**
 * The pipeline's {@link CancellationToken} for the Spark task running on this thread: cancelled
 * once Spark marks the task killed ({@code TaskContext.isInterrupted()}: {@code --max-failures}
 * cancelling the job group, Ctrl-C stopping the context, a speculative copy that lost). libtorch
 * calls ignore Java thread interrupts, so without this a killed task would run every remaining step
 * of its batch, and the decoder, before Spark could take the executor's cores back.
 */
final class SparkTaskCancellation {
    private SparkTaskCancellation() {}

    /**
     * The token of the current task; {@link CancellationToken#NONE} outside a task (the driver's
     * own uses, tests).
     */
    static CancellationToken forCurrentTask() {
        TaskContext context = TaskContext.get();
        if (context == null) {
            return CancellationToken.NONE;
        }
        return context::isInterrupted;
    }
}
