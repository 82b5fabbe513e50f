package sdbatch.jobs.generate;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import sdbatch.schemas.GenerationRequest;

/**
 * One image to make, on its way to an executor: the request, its image id, a dense run-wide
 * ordinal, and the other expanded requests with the same image id.
 *
 * <p><b>Duplicates.</b> Two input rows (or two expansions) with equal generation parameters have
 * the same image id, hence the same file. The job generates that image once: the request with the
 * lowest ordinal carries the others in {@link #duplicates}, and each of them still gets its own
 * metadata row (its own {@code source_row} and passthrough columns) with the same status, image and
 * hash, and {@code duplicate_of} naming the row that was generated. No row is lost, no image is
 * generated twice.
 *
 * @param ordinal the run-wide ordinal (deterministic: the request's position in the planned table),
 *     -1 before numbering
 * @param imageId the image id ({@code ImageId.of(model identity, request)})
 * @param request the request that is generated
 * @param duplicates other requests with the same image id, in ordinal order
 */
public record PlannedRequest(
        long ordinal, String imageId, GenerationRequest request, List<GenerationRequest> duplicates)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Checks presence and copies the duplicates. */
    public PlannedRequest {
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(request, "request");
        duplicates = List.copyOf(duplicates);
    }

    /** The same request with its run-wide ordinal. */
    public PlannedRequest withOrdinal(long newOrdinal) {
        return new PlannedRequest(newOrdinal, imageId, request, duplicates);
    }

    /**
     * Merges two plans of the same image: the lower ordinal is generated, the other (and its
     * duplicates) become duplicates, kept in ordinal order.
     */
    public static PlannedRequest merge(PlannedRequest a, PlannedRequest b) {
        if (!a.imageId.equals(b.imageId)) {
            throw new IllegalArgumentException(
                    "cannot merge images " + a.imageId + " and " + b.imageId);
        }
        PlannedRequest first = a.ordinal <= b.ordinal ? a : b;
        PlannedRequest second = first == a ? b : a;
        java.util.List<GenerationRequest> d = new java.util.ArrayList<>(first.duplicates);
        d.add(second.request);
        d.addAll(second.duplicates);
        d.sort(
                java.util.Comparator.comparingLong(GenerationRequest::sourceRow)
                        .thenComparingInt(GenerationRequest::expansionIndex));
        return new PlannedRequest(first.ordinal, first.imageId, first.request, d);
    }

    /** {@link CostPartitioner#cost} of this request. */
    public long cost() {
        return CostPartitioner.cost(request.steps(), request.width(), request.height());
    }

    /**
     * What requests in one batch must share (see {@link BatchGrouper}): size, steps, scheduler and
     * its config, eta and clip skip, and whether guidance is on (the pipeline batches the
     * unconditional pass for all or none); prompt, seed and guidance scale may differ.
     */
    public List<Object> batchKey() {
        GenerationRequest r = request;
        return Arrays.asList(
                r.width(),
                r.height(),
                r.steps(),
                r.scheduler(),
                r.schedulerConfig(),
                r.eta(),
                r.clipSkip(),
                r.guidanceScale() > 1.0);
    }
}
