package sdbatch.jobs.generate;

import java.util.ArrayList;
import java.util.List;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.ResultRow;
import sdbatch.schemas.Status;

/**
 * The metadata rows of one result: the generated request's row first, then one row per duplicate
 * (see {@link PlannedRequest}), all with the same status, image, hash and timings. The generator's
 * warning ({@link RowResult#warning()}: a prompt the tokenizer cut) follows each row's own (its
 * pictures'), joined with "; ".
 */
public final class ResultRows {
    private ResultRows() {}

    /**
     * @param r the result of one request
     * @param model the model identity
     * @param execution where and by which version the task ran
     */
    public static List<ResultRow> of(
            RowResult<PlannedRequest> r, String model, ResultRow.Execution execution) {
        PlannedRequest p = r.request();
        ResultRow.Timings timings =
                new ResultRow.Timings(
                        r.startedAt(),
                        r.encodeMs(),
                        r.denoiseMs(),
                        r.decodeMs(),
                        r.writeMs(),
                        r.totalMs());
        List<ResultRow> out = new ArrayList<>(1 + p.duplicates().size());
        out.add(row(p.request(), p.imageId(), r, model, timings, execution));
        for (GenerationRequest d : p.duplicates()) {
            out.add(row(d, p.imageId(), r, model, timings, execution));
        }
        return out;
    }

    private static ResultRow row(
            GenerationRequest q,
            String imageId,
            RowResult<PlannedRequest> r,
            String model,
            ResultRow.Timings timings,
            ResultRow.Execution execution) {
        StoredImage image = r.image();
        ResultRow.Outcome outcome =
                r.status() == Status.OK
                        ? ResultRow.Outcome.written(image.uri(), image.sha256(), image.bytes())
                        : ResultRow.Outcome.failed(r.error());
        return ResultRow.of(q, imageId, model, outcome, timings, execution)
                .withAddedWarning(r.warning());
    }
}
