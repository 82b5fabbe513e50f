package sdbatch.jobs.generate;

import java.io.Serializable;
import java.util.List;
import java.util.Map;

/**
 * Validates one input row and expands it over the sweep: the pure step between the prompt table and
 * the requests. Runs on executors, so it is serializable and holds only small resolved specs (sweep
 * lists, model defaults, model identity). Wired to schemas' {@code RowValidator} and {@code
 * SweepExpander}.
 */
@FunctionalInterface
public interface RowPlanner extends Serializable {
    /**
     * Plans one row.
     *
     * @param sourceRow the row's {@code source_row} id
     * @param columns the known columns ({@code prompt}, {@code seed}, …) by canonical name; a value
     *     is null, of its expected Java type (String, Long, Integer, Double), or a String holding
     *     the raw cell when the table's type did not match
     */
    Plan plan(long sourceRow, Map<String, Object> columns);

    /**
     * The plan of one row: its expanded requests, or why it is invalid.
     *
     * @param requests the expanded requests when valid; for an invalid row exactly one request
     *     holding the raw values that could be read (image id null)
     * @param error why the row is invalid (naming the column and value), null when valid
     */
    record Plan(List<JobRequest> requests, String error) {
        public Plan {
            requests = List.copyOf(requests);
            if (error != null && requests.size() != 1) {
                throw new IllegalArgumentException("an invalid plan carries exactly one request");
            }
        }

        /** A valid row expanded into {@code requests}. */
        public static Plan valid(List<JobRequest> requests) {
            return new Plan(requests, null);
        }

        /** An invalid row. */
        public static Plan invalid(JobRequest raw, String error) {
            return new Plan(List.of(raw), error);
        }
    }
}
