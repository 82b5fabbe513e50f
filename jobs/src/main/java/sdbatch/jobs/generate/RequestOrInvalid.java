package sdbatch.jobs.generate;

import java.io.Serializable;
import sdbatch.schemas.ResultRow;

/**
 * What planning an input row yields, item by item ({@link RowPlanner#plan}): either one request to
 * generate, or the metadata row of an invalid input row. Exactly one of the two is non-null.
 *
 * @param request the request to generate, or null
 * @param invalid the invalid row's metadata row, or null
 */
public record RequestOrInvalid(PlannedRequest request, ResultRow invalid) implements Serializable {
    /** An item that is a request. */
    public static RequestOrInvalid of(PlannedRequest request) {
        return new RequestOrInvalid(request, null);
    }

    /** An item that is an invalid row's metadata row. */
    public static RequestOrInvalid invalid(ResultRow invalid) {
        return new RequestOrInvalid(null, invalid);
    }

    /** The same item with the request's run-wide ordinal; an invalid row is returned as is. */
    public RequestOrInvalid withOrdinal(long ordinal) {
        return request == null ? this : of(request.withOrdinal(ordinal));
    }
}
