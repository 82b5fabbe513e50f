package sdbatch.jobs.generate;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import sdbatch.schemas.Adapters;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;

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
 * <p>The plans of one image id are combined with a {@link Fold}, in time linear in their number: N
 * identical rows are one image with N − 1 duplicates, and folding them pairwise with {@link #merge}
 * (a new sorted list per step) would cost O(N²).
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

    /** The order of duplicates: input row, then expansion. */
    private static final Comparator<GenerationRequest> ROW_ORDER =
            Comparator.comparingLong(GenerationRequest::sourceRow)
                    .thenComparingInt(GenerationRequest::expansionIndex);

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
     * duplicates) become duplicates, kept in ordinal order. For two plans; fold many with {@link
     * Fold}.
     */
    public static PlannedRequest merge(PlannedRequest a, PlannedRequest b) {
        return Fold.of(a).add(b).result();
    }

    /**
     * A mutable accumulation of the plans of one image id (Spark's {@code combineByKey} combiner):
     * the plan with the lowest ordinal so far and every other request, unsorted. Adding a plan
     * costs O(1 + its duplicates) and combining two folds O(the smaller), so folding N plans is
     * O(N) plus one sort in {@link #result()}. The result does not depend on the order in which
     * plans are added.
     */
    public static final class Fold implements Serializable {
        private static final long serialVersionUID = 1L;

        private PlannedRequest first;
        private ArrayList<GenerationRequest> others;

        private Fold(PlannedRequest first) {
            this.first = first;
            this.others = new ArrayList<>(first.duplicates);
        }

        /** A fold of one plan. */
        public static Fold of(PlannedRequest p) {
            return new Fold(Objects.requireNonNull(p, "p"));
        }

        /** Adds one plan of the same image id; returns this fold. */
        public Fold add(PlannedRequest p) {
            sameImage(p.imageId);
            if (p.ordinal < first.ordinal) {
                others.add(first.request);
                first = p;
            } else {
                others.add(p.request);
            }
            others.addAll(p.duplicates);
            return this;
        }

        /** Combines two folds of the same image id; returns the combined fold (either). */
        public Fold addAll(Fold o) {
            sameImage(o.first.imageId);
            // Append the smaller list to the larger, so combining stays linear overall.
            Fold big = others.size() >= o.others.size() ? this : o;
            Fold small = big == this ? o : this;
            big.others.addAll(small.others);
            if (small.first.ordinal < big.first.ordinal) {
                big.others.add(big.first.request);
                big.first = small.first;
            } else {
                big.others.add(small.first.request);
            }
            return big;
        }

        /** The plan: the lowest ordinal generated, the others as its duplicates in row order. */
        public PlannedRequest result() {
            others.sort(ROW_ORDER);
            return new PlannedRequest(first.ordinal, first.imageId, first.request, others);
        }

        private void sameImage(String imageId) {
            if (!first.imageId.equals(imageId)) {
                throw new IllegalArgumentException(
                        "cannot merge images " + first.imageId + " and " + imageId);
            }
        }
    }

    /**
     * The request's LoRA set ({@link Adapters#loraSetKey}) as a 64-bit FNV-1a hash: the group
     * {@link CostPartitioner#assign(long[], int[], int)} keeps together. A hash, not the key, so
     * the driver collects three longs per request; two sets sharing a hash would only be planned as
     * one group (they still run on their own weights).
     */
    public long loraSetHash() {
        long h = 0xcbf29ce484222325L;
        for (char c : Adapters.loraSetKey(request.adapters()).toCharArray()) {
            h ^= c;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /**
     * {@link CostPartitioner#cost} of this request: its denoising steps, for img2img and inpainting
     * the {@code int(steps × strength)} that run (a 0.3-strength request costs a third of a 1.0
     * one).
     */
    public long cost() {
        InputPictures pictures = request.pictures();
        int steps =
                pictures == null
                        ? request.steps()
                        : Math.max(1, (int) (request.steps() * pictures.strength()));
        return CostPartitioner.cost(steps, request.width(), request.height());
    }

    /**
     * What requests in one batch must share (see {@link BatchGrouper}): size, steps, scheduler and
     * its config, eta and clip skip, and whether guidance is on (the pipeline batches the
     * unconditional pass for all or none); for img2img and inpainting also the mode and the
     * strength (it decides where the timestep schedule starts). Prompt, seed, guidance scale and
     * the pictures themselves may differ.
     */
    public List<Object> batchKey() {
        GenerationRequest r = request;
        InputPictures pictures = r.pictures();
        return Arrays.asList(
                pictures == null ? "txt2img" : pictures.mode(),
                pictures == null ? null : pictures.strength(),
                // LoRA set (issue 18): a batch runs on one set of merged weights
                Adapters.loraSetKey(r.adapters()),
                // ControlNet (issue 18): one ControlNet call per step serves a batch
                r.controlNet() == null ? null : r.controlNet().sha256(),
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
