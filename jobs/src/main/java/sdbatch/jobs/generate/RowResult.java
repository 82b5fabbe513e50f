package sdbatch.jobs.generate;

/**
 * The result of one request: what becomes one metadata row (together with the request's own
 * columns).
 *
 * @param request the request
 * @param status ok, invalid or failed
 * @param error why the row is not ok, null when ok
 * @param image where the image is, null unless ok
 * @param generateMillis the request's share of its batch's generation time (batch wall time / batch
 *     size), null when generation did not run
 * @param writeMillis time spent storing the image, null when no image was stored
 * @param batchSize how many requests were generated together with this one (1 after a retry)
 * @param task where the task ran
 * @param <R> the request type
 */
public record RowResult<R>(
        R request,
        Status status,
        String error,
        StoredImage image,
        Long generateMillis,
        Long writeMillis,
        int batchSize,
        TaskInfo task) {}
