package sdbatch.jobs.generate;

import java.time.Instant;
import sdbatch.schemas.Status;

/**
 * The result of one request: what becomes one metadata row (together with the request's own
 * columns).
 *
 * @param request the request
 * @param status ok or failed ({@link Status#INVALID} rows never reach a runner)
 * @param error why the row is not ok, null when ok
 * @param image where the image is, null unless ok
 * @param startedAt when the request's batch started
 * @param encodeMs prompt encoding (share of the batch), 0 when generation did not get that far
 * @param denoiseMs denoising loop (share of the batch)
 * @param decodeMs VAE decode (share of the batch)
 * @param writeMs encoding the PNG (if the generator deferred it) and storing the image, 0 when
 *     nothing was stored
 * @param totalMs this request's share of the batch's wall time plus its own write
 * @param batchSize how many requests were generated together with this one (1 after a retry)
 * @param task where the task ran
 * @param warning the generator's warning about the request ({@link GeneratedPng#warning()}), null
 *     when none
 * @param <R> the request type
 */
public record RowResult<R>(
        R request,
        Status status,
        String error,
        StoredImage image,
        Instant startedAt,
        long encodeMs,
        long denoiseMs,
        long decodeMs,
        long writeMs,
        long totalMs,
        int batchSize,
        TaskInfo task,
        String warning) {}
