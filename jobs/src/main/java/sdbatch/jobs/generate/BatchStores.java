package sdbatch.jobs.generate;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import sdbatch.jobs.generate.BatchGeneration.Generated;
import sdbatch.schemas.Status;

/**
 * The storing half of a {@link PartitionRunner}: a generated batch's PNGs (encoded now if deferred)
 * into the {@link ImageSink}, one final {@link RowResult} per request. Under the runner's failure
 * policy an encoding or store that fails or throws (any non-fatal throwable) fails only its row,
 * and the image bytes are dropped.
 *
 * <p>Runs on the runner's writer thread when stores overlap the next batch, else on the task
 * thread; it holds no state of its own between batches.
 *
 * @param <R> the request type
 */
final class BatchStores<R> {
    private final ImageSink sink;
    private final Function<? super R, String> imageId;
    private final TaskInfo task;
    private final LongSupplier nanoTime;
    private final Consumer<? super RowResult<R>> onFinished;

    /**
     * @param onFinished told each request's final result, before it is handed out (see {@link
     *     PartitionRunner#withOnFinished})
     */
    BatchStores(
            ImageSink sink,
            Function<? super R, String> imageId,
            TaskInfo task,
            LongSupplier nanoTime,
            Consumer<? super RowResult<R>> onFinished) {
        this.sink = sink;
        this.imageId = imageId;
        this.task = task;
        this.nanoTime = nanoTime;
        this.onFinished = onFinished;
    }

    /** These stores telling {@code newOnFinished} instead. */
    BatchStores<R> withOnFinished(Consumer<? super RowResult<R>> newOnFinished) {
        return new BatchStores<>(sink, imageId, task, nanoTime, newOnFinished);
    }

    /** Stores every image of {@code generated}; one result per request, in batch order. */
    List<RowResult<R>> storeAll(List<Generated<R>> generated) {
        List<RowResult<R>> results = new ArrayList<>(generated.size());
        for (Generated<R> g : generated) {
            RowResult<R> r =
                    g.failed() != null
                            ? g.failed()
                            : store(
                                    g.request(),
                                    g.image(),
                                    g.startedAt(),
                                    g.generateMillis(),
                                    g.batchSize());
            onFinished.accept(r);
            results.add(r);
        }
        return results;
    }

    private RowResult<R> store(
            R request, GeneratedPng image, Instant startedAt, long generateMillis, int size) {
        if (!image.isOk()) {
            return new RowResult<>(
                    request,
                    Status.FAILED,
                    image.error(),
                    null,
                    startedAt,
                    0,
                    0,
                    0,
                    0,
                    generateMillis,
                    size,
                    task,
                    image.warning());
        }
        long start = nanoTime.getAsLong();
        StoredImage stored = encodeAndStore(request, image);
        long writeMillis = PartitionRunner.millisSince(nanoTime, start);
        boolean ok = stored.isOk();
        return new RowResult<>(
                request,
                ok ? Status.OK : Status.FAILED,
                ok ? null : stored.error(),
                ok ? stored : null,
                startedAt,
                image.encodeMs(),
                image.denoiseMs(),
                image.decodeMs(),
                writeMillis,
                generateMillis + writeMillis,
                size,
                task,
                image.warning());
    }

    /** The image's PNG (encoded now if deferred) into the sink; failures as a failed store. */
    private StoredImage encodeAndStore(R request, GeneratedPng image) {
        byte[] png;
        try {
            png = image.png();
        } catch (Throwable e) {
            if (PartitionRunner.isFatal(e)) {
                throw (Error) e;
            }
            return StoredImage.failed("encoding the PNG failed: " + PartitionRunner.describe(e));
        }
        if (png == null) {
            return StoredImage.failed("encoding the PNG failed: the encoder returned nothing");
        }
        try {
            return sink.store(imageId.apply(request), png);
        } catch (Throwable e) {
            if (PartitionRunner.isFatal(e)) {
                throw (Error) e;
            }
            return StoredImage.failed("storing the image failed: " + PartitionRunner.describe(e));
        }
    }
}
