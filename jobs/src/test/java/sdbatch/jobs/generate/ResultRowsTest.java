package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.ResultRow;
import sdbatch.schemas.Status;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.ValidationResult;

/** {@link ResultRows}: one row per request and per duplicate, all sharing the one image. */
class ResultRowsTest {
    private static final RowPlanner PLANNER =
            new RowPlanner(RowPlannerTest.MODEL, SweepSpec.NONE, null, null);
    private static final ResultRow.Execution EXECUTION =
            new ResultRow.Execution("exec-1", "cpu", 0, "test");
    private static final TaskInfo TASK = new TaskInfo("exec-1", "cpu", null, 0);

    /** The plan of input row {@code sourceRow} with prompt "a fox" and seed 3, numbered. */
    private static PlannedRequest fox(long sourceRow, long ordinal) {
        PromptRow row =
                PromptRow.fromColumns(sourceRow, null, Map.of("prompt", "a fox", "seed", 3L));
        return PLANNER.expand((ValidationResult.Valid) PLANNER.validate(row))
                .next()
                .withOrdinal(ordinal);
    }

    private static RowResult<PlannedRequest> result(
            PlannedRequest p, Status status, StoredImage image, String error) {
        return new RowResult<>(
                p, status, error, image, Instant.EPOCH, 1, 2, 3, 4, 10, 2, TASK, null);
    }

    @Test
    void anOkImageGivesItsRequestsRowThenEachDuplicatesWithTheSameImage() {
        PlannedRequest p = PlannedRequest.merge(fox(5, 0), fox(2, 1));
        StoredImage image =
                StoredImage.ok("images/ab/x.png", "file:/out/images/ab/x.png", 99, "f0");
        List<ResultRow> rows = ResultRows.of(result(p, Status.OK, image, null), "m", EXECUTION);
        assertEquals(2, rows.size());
        assertEquals(5, rows.get(0).sourceRow(), "the generated request first");
        assertEquals(2, rows.get(1).sourceRow(), "then its duplicate");
        for (ResultRow r : rows) {
            assertEquals(Status.OK, r.status());
            assertEquals(p.imageId(), r.imageId());
            assertEquals("file:/out/images/ab/x.png", r.imageUri());
            assertEquals("f0", r.sha256());
            assertEquals(99L, r.bytes());
            assertEquals("m", r.model());
            assertEquals(EXECUTION, r.execution());
            assertEquals(new ResultRow.Timings(Instant.EPOCH, 1, 2, 3, 4, 10), r.timings());
            assertNull(r.error());
        }
    }

    @Test
    void aFailedRequestGivesFailedRowsWithItsError() {
        PlannedRequest p = fox(7, 0);
        List<ResultRow> rows =
                ResultRows.of(result(p, Status.FAILED, null, "boom"), "m", EXECUTION);
        assertEquals(1, rows.size());
        assertEquals(Status.FAILED, rows.get(0).status());
        assertEquals("boom", rows.get(0).error());
        assertNull(rows.get(0).imageUri());
        assertEquals(7, rows.get(0).sourceRow());
    }
}
