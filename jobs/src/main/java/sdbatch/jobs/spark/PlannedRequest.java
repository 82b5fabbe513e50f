package sdbatch.jobs.spark;

import java.io.Serializable;
import org.apache.spark.sql.Row;
import sdbatch.jobs.generate.JobRequest;

/**
 * A request on its way through the job, with the input row's passthrough values riding along.
 *
 * @param request the request (for an invalid row: the raw values)
 * @param error why the row is invalid, null when valid
 * @param passthrough the values of the passthrough columns, in table order
 */
record PlannedRequest(JobRequest request, String error, Row passthrough) implements Serializable {
    private static final long serialVersionUID = 1L;

    PlannedRequest withOrdinal(long ordinal) {
        return new PlannedRequest(request.withOrdinal(ordinal), error, passthrough);
    }
}
