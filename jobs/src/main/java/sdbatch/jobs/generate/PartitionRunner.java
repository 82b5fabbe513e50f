package sdbatch.jobs.generate;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Runs one partition: every request in, exactly one {@link RowResult} out, never an exception for a
 * bad request. Pure (no Spark), so the Spark layer is only {@code mapPartitions(runner::run)}.
 *
 * <p>The partition's requests are read up front (they are small specs; the images are not), grouped
 * into compatible batches by {@link BatchGrouper}, and then generated and stored one batch at a
 * time while the caller consumes results.
 *
 * <p><b>Stores overlap the next batch</b> (unless constructed with {@code overlapStores = false}):
 * batch k's PNGs are written by one writer thread while the task thread generates batch k+1. The
 * hand-off is one batch deep: before batch k+1's PNGs go to the writer, the task thread waits for
 * batch k's stores to finish, so at most two batches of PNGs are in memory (one being stored, one
 * just generated) and storage can never fall behind by more than a batch. Results still come out in
 * batch order, each batch's after its stores finished. On a GPU the writer's I/O (an S3 PUT is tens
 * of milliseconds) then hides behind denoising instead of adding to it.
 *
 * <p>Failure policy, and the only broad {@code catch} of the job (STYLE.md item 12): <b>no row can
 * take the partition down</b>.
 *
 * <ul>
 *   <li>If {@link Generator#generate} throws for a batch of several requests, each request is
 *       retried alone, so one poisonous request fails only itself. If it throws for a single
 *       request, that request is {@code failed} with the throwable and its causes in {@code error}.
 *       This holds for {@link Error}s too: an {@link OutOfMemoryError} (a batch too large for the
 *       heap or the GPU), a {@link StackOverflowError}, a {@link LinkageError} or an {@link
 *       AssertionError} from native code fails the batch, and the requests that can be made one at
 *       a time still are.
 *   <li>A {@link GeneratedPng#failed} result is final for its request (the generator already
 *       decided it).
 *   <li>A PNG encoding or store that fails or throws (any non-fatal throwable) marks the row {@code
 *       failed}; the image bytes are dropped.
 *   <li>A failure that {@linkplain Generator#poisonsPipeline poisons the pipeline} (a CUDA error
 *       after which every call fails) makes the generator {@linkplain Generator#discardPipeline
 *       discard} it, so the next batch runs on a fresh one. After {@value
 *       #MAX_CONSECUTIVE_DEVICE_FAULTS} such failures in a row (no success between) the device is
 *       taken to be broken: the runner throws {@link DeviceFaultException}, which fails the task,
 *       so Spark retries the partition on another executor and (with {@code
 *       spark.excludeOnFailure.enabled}) stops scheduling on this one, instead of this executor
 *       failing every row it is given. The retry recomputes the whole partition and discards this
 *       attempt's rows, so no duplicate rows appear; stored images are idempotent.
 * </ul>
 *
 * Only errors that mean the JVM itself is broken ({@link #isFatal}: {@link InternalError}, {@link
 * UnknownError}, {@link ThreadDeath}) are let through, to fail the task.
 *
 * <p>The runner holds the partition's flow (batches in, results out, the writer's one-batch
 * hand-off); the policy's two halves live beside it: {@link BatchGeneration} generates a batch
 * (retry alone, device faults, cancellation) and {@link BatchStores} stores it (encoding and store
 * failures). {@link BatchGrouper}, {@link ImageSink} and {@link ReopeningGenerator} stand alone.
 *
 * @param <R> the request type
 */
public final class PartitionRunner<R> {
    /**
     * Device faults in a row after which the task fails (see the class comment): one may be a row's
     * bad luck and two a pipeline that did not survive its reload; three with a fresh pipeline
     * before each means the device is broken.
     */
    public static final int MAX_CONSECUTIVE_DEVICE_FAULTS = 3;

    private final Function<? super R, ?> batchKey;
    private final int batchSize;
    private final TaskInfo task;
    private final boolean overlapStores;
    private final BatchGeneration<R> generation;
    private final BatchStores<R> stores;

    /**
     * A runner that tells no one of finished rows (see {@link #withOnFinished}).
     *
     * @param generator makes the images
     * @param sink stores them
     * @param imageId the image id of a request (the stored file name)
     * @param batchKey what compatible requests share (see {@link BatchGrouper})
     * @param batchSize the largest batch, at least 1
     * @param task recorded on every result
     * @param nanoTime the clock for timings ({@code System::nanoTime})
     * @param overlapStores whether a batch's stores run on a writer thread while the next batch is
     *     generated (the job's default), or inline after each batch
     */
    public PartitionRunner(
            Generator<R> generator,
            ImageSink sink,
            Function<? super R, String> imageId,
            Function<? super R, ?> batchKey,
            int batchSize,
            TaskInfo task,
            LongSupplier nanoTime,
            boolean overlapStores) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        Objects.requireNonNull(generator, "generator");
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(imageId, "imageId");
        this.batchKey = Objects.requireNonNull(batchKey, "batchKey");
        this.batchSize = batchSize;
        this.task = Objects.requireNonNull(task, "task");
        Objects.requireNonNull(nanoTime, "nanoTime");
        this.overlapStores = overlapStores;
        this.generation = new BatchGeneration<>(generator, task, nanoTime);
        this.stores = new BatchStores<>(sink, imageId, task, nanoTime, r -> {});
    }

    /**
     * A copy of {@code base} storing with {@code stores}, and with its own run of device faults (as
     * a new runner has).
     */
    private PartitionRunner(PartitionRunner<R> base, BatchStores<R> stores) {
        this.batchKey = base.batchKey;
        this.batchSize = base.batchSize;
        this.task = base.task;
        this.overlapStores = base.overlapStores;
        this.generation = base.generation.fresh();
        this.stores = stores;
    }

    /**
     * This runner, and {@code onFinished} is told each request's final result as soon as it is
     * known (its image stored, or its failure decided), on the thread that decided it (the writer
     * thread when stores overlap), one call at a time and before the result is handed out. Progress
     * counts images there, not when the caller reads the results: with overlapping stores a batch's
     * results come out only after the next batch is generated.
     */
    public PartitionRunner<R> withOnFinished(Consumer<? super RowResult<R>> newOnFinished) {
        return new PartitionRunner<>(
                this, stores.withOnFinished(Objects.requireNonNull(newOnFinished, "onFinished")));
    }

    /** Runs the requests of one partition, in order; results come in batch order. */
    public Iterator<RowResult<R>> run(Iterator<R> requests) {
        List<R> all = new ArrayList<>();
        requests.forEachRemaining(all::add);
        Iterator<List<R>> batches = BatchGrouper.group(all, batchKey, batchSize).iterator();
        if (overlapStores) {
            return new StoreBehind(batches);
        }
        return new Iterator<>() {
            private final Deque<RowResult<R>> pending = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                while (pending.isEmpty() && batches.hasNext()) {
                    pending.addAll(runBatch(batches.next()));
                }
                return !pending.isEmpty();
            }

            @Override
            public RowResult<R> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return pending.removeFirst();
            }
        };
    }

    /**
     * Generates batch k+1 on the caller's thread while a single writer thread stores batch k; see
     * the class comment for the one-batch bound.
     */
    private final class StoreBehind implements Iterator<RowResult<R>> {
        private final Iterator<List<R>> batches;
        private final Deque<RowResult<R>> pending = new ArrayDeque<>();
        private final ThreadPoolExecutor writer;
        private Future<List<RowResult<R>>> storing;

        StoreBehind(Iterator<List<R>> batches) {
            this.batches = batches;
            // One thread, a queue that never holds more than the one batch being stored (the
            // caller waits for it before submitting the next), and an idle thread that exits
            // by itself: an iterator Spark abandons (a killed task) leaves no thread behind.
            this.writer =
                    new ThreadPoolExecutor(
                            1,
                            1,
                            1,
                            TimeUnit.SECONDS,
                            new ArrayBlockingQueue<>(1),
                            r -> {
                                Thread t = new Thread(r, "sdbatch-store-" + task.executor());
                                t.setDaemon(true);
                                return t;
                            });
            this.writer.allowCoreThreadTimeOut(true);
        }

        @Override
        public boolean hasNext() {
            while (pending.isEmpty()) {
                if (batches.hasNext()) {
                    List<BatchGeneration.Generated<R>> generated =
                            generation.generate(batches.next());
                    collect();
                    storing = writer.submit(() -> stores.storeAll(generated));
                } else if (storing != null) {
                    collect();
                } else {
                    writer.shutdown();
                    return false;
                }
            }
            return true;
        }

        @Override
        public RowResult<R> next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return pending.removeFirst();
        }

        /** Waits for the batch being stored, if any, and queues its results. */
        private void collect() {
            if (storing == null) {
                return;
            }
            Future<List<RowResult<R>>> f = storing;
            storing = null;
            try {
                pending.addAll(f.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                writer.shutdownNow();
                throw new IllegalStateException("interrupted while storing images", e);
            } catch (ExecutionException e) {
                // BatchStores turns every non-fatal throwable into a failed row, so only fatal
                // Errors get here: rethrown as themselves, they fail the task as they would
                // inline.
                writer.shutdownNow();
                Throwable cause = e.getCause();
                if (cause instanceof Error error) {
                    throw error;
                }
                throw new IllegalStateException("storing images failed", cause);
            }
        }
    }

    /** Generates and stores one batch; one result per request, in batch order. */
    List<RowResult<R>> runBatch(List<R> batch) {
        return stores.storeAll(generation.generate(batch));
    }

    /**
     * Whether {@code t} means the JVM itself is broken, so nothing this task does can be trusted:
     * {@link InternalError} and {@link UnknownError} (the VM's own failures) and {@link
     * ThreadDeath}. Every other throwable, {@link OutOfMemoryError} included (the allocation that
     * failed was this batch's, and its memory is free again once the batch is dropped), fails only
     * its batch.
     */
    @SuppressWarnings("removal")
    static boolean isFatal(Throwable t) {
        return t instanceof InternalError || t instanceof UnknownError || t instanceof ThreadDeath;
    }

    /** Milliseconds on {@code nanoTime} since {@code startNanos}. */
    static long millisSince(LongSupplier nanoTime, long startNanos) {
        return (nanoTime.getAsLong() - startNanos) / 1_000_000L;
    }

    /** The exception and its causes, one clause each, for the {@code error} column. */
    public static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (sb.length() > 0) {
                sb.append("; caused by ");
            }
            sb.append(t.getClass().getName());
            if (t.getMessage() != null) {
                sb.append(": ").append(t.getMessage());
            }
            if (sb.length() > 4000) {
                sb.append(" …");
                break;
            }
        }
        return sb.toString();
    }
}
