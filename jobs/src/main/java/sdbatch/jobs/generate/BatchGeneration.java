package sdbatch.jobs.generate;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.LongSupplier;
import sdbatch.schemas.Status;

/**
 * The generating half of a {@link PartitionRunner}: one batch through the {@link Generator} under
 * the runner's failure policy (see its class comment): a batch that throws is retried one request
 * at a time, a single request that throws fails alone, a cancellation ends the task, and a failure
 * that poisons the pipeline discards it and counts towards {@link
 * PartitionRunner#MAX_CONSECUTIVE_DEVICE_FAULTS}. Nothing is stored here ({@link BatchStores}).
 *
 * <p>Used on the task thread only: it holds the run of consecutive device faults.
 *
 * @param <R> the request type
 */
final class BatchGeneration<R> {
    /**
     * One request's outcome after generation: a final result (the request failed), or an image
     * still to be stored.
     */
    record Generated<T>(
            T request,
            RowResult<T> failed,
            GeneratedPng image,
            Instant startedAt,
            long generateMillis,
            int batchSize) {}

    private final Generator<R> generator;
    private final TaskInfo task;
    private final LongSupplier nanoTime;

    /** Device faults since the last batch that generated; read and written on the task thread. */
    private int consecutiveDeviceFaults;

    BatchGeneration(Generator<R> generator, TaskInfo task, LongSupplier nanoTime) {
        this.generator = generator;
        this.task = task;
        this.nanoTime = nanoTime;
    }

    /** A generation by the same generator with no device faults counted yet. */
    BatchGeneration<R> fresh() {
        return new BatchGeneration<>(generator, task, nanoTime);
    }

    /** Generates one batch (retrying a failed batch one request at a time); nothing stored yet. */
    List<Generated<R>> generate(List<R> batch) {
        Instant startedAt = Instant.now();
        long start = nanoTime.getAsLong();
        List<GeneratedPng> images;
        try {
            images = generator.generate(batch);
            if (images == null || images.size() != batch.size()) {
                throw new IllegalStateException(
                        "generator returned "
                                + (images == null ? "null" : images.size() + " results")
                                + " for a batch of "
                                + batch.size());
            }
        } catch (Throwable t) {
            if (PartitionRunner.isFatal(t)) {
                throw (Error) t;
            }
            CancellationException cancelled = cancellation(t);
            if (cancelled != null) {
                // The task was cancelled (--max-failures, Ctrl-C): its rows are not failures of
                // their own, and retrying them one by one would only be cancelled again. The task
                // ends as killed; its rows are counted by the run that resumes it.
                throw cancelled;
            }
            String deviceFault = deviceFault(t);
            if (batch.size() > 1) {
                List<Generated<R>> results = new ArrayList<>(batch.size());
                for (R request : batch) {
                    results.addAll(generate(List.of(request)));
                }
                return results;
            }
            long ms = PartitionRunner.millisSince(nanoTime, start);
            RowResult<R> failed =
                    new RowResult<>(
                            batch.get(0),
                            Status.FAILED,
                            deviceFault == null ? PartitionRunner.describe(t) : deviceFault,
                            null,
                            startedAt,
                            0,
                            0,
                            0,
                            0,
                            ms,
                            1,
                            task,
                            null);
            return List.of(new Generated<>(batch.get(0), failed, null, startedAt, ms, 1));
        }
        consecutiveDeviceFaults = 0;
        long share = PartitionRunner.millisSince(nanoTime, start) / batch.size();
        List<Generated<R>> results = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            results.add(
                    new Generated<>(
                            batch.get(i), null, images.get(i), startedAt, share, batch.size()));
        }
        return results;
    }

    /**
     * Handles a generation failure that may have broken the pipeline: when the generator says it
     * did, the pipeline is discarded (the next batch gets a fresh one) and the fault is counted; at
     * the limit the task fails with {@link DeviceFaultException}.
     *
     * @return the row's error for a device fault, or null when {@code t} is an ordinary failure
     */
    private String deviceFault(Throwable t) {
        boolean poisoned;
        try {
            poisoned = generator.poisonsPipeline(t);
        } catch (RuntimeException e) {
            poisoned = false; // a classifier that cannot tell: an ordinary failure
        }
        if (!poisoned) {
            return null;
        }
        consecutiveDeviceFaults++;
        Throwable discardFailure = null;
        try {
            generator.discardPipeline();
        } catch (Exception e) {
            discardFailure = e;
        }
        if (consecutiveDeviceFaults >= PartitionRunner.MAX_CONSECUTIVE_DEVICE_FAULTS) {
            DeviceFaultException fault =
                    new DeviceFaultException(
                            consecutiveDeviceFaults
                                    + " generations in a row failed with a device fault on executor "
                                    + task.executor()
                                    + " ("
                                    + task.device()
                                    + "), the pipeline discarded and reloaded after each: failing"
                                    + " the task so that Spark retries it elsewhere; last fault: "
                                    + PartitionRunner.describe(t),
                            t);
            if (discardFailure != null) {
                fault.addSuppressed(discardFailure);
            }
            throw fault;
        }
        return "device fault (the pipeline was discarded and is reloaded for the next batch): "
                + PartitionRunner.describe(t)
                + (discardFailure == null
                        ? ""
                        : "; discarding it failed: " + PartitionRunner.describe(discardFailure));
    }

    /** The cancellation among {@code t} and its causes, or null. */
    private static CancellationException cancellation(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof CancellationException ce) {
                return ce;
            }
        }
        return null;
    }
}
