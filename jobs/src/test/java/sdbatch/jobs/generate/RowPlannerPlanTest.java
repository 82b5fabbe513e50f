package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.Status;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.ValidationResult;

/** {@link RowPlanner#plan}: a row becomes one invalid row or its requests, never both. */
class RowPlannerPlanTest {
    private final RowPlanner planner =
            new RowPlanner(
                    RowPlannerTest.MODEL, SweepSpec.parse(null, 3, null, null, null), null, null);

    private static List<RequestOrInvalid> all(java.util.Iterator<RequestOrInvalid> it) {
        List<RequestOrInvalid> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }

    @Test
    void aValidRowIsItsExpandedRequestsAndNothingElse() {
        PromptRow row = PromptRow.fromColumns(4, null, Map.of("prompt", "a red fox"));
        List<RequestOrInvalid> items = all(planner.plan(row, null));
        List<PlannedRequest> expected = new ArrayList<>();
        planner.expand((ValidationResult.Valid) planner.validate(row))
                .forEachRemaining(expected::add);
        assertEquals(3, expected.size(), "--images-per-prompt 3");
        assertEquals(expected, items.stream().map(RequestOrInvalid::request).toList());
        items.forEach(i -> assertNull(i.invalid()));
    }

    @Test
    void aRowThatFailsValidationIsOneInvalidRow() {
        PromptRow row = PromptRow.fromColumns(5, null, Map.of("prompt", "x", "steps", "abc"));
        List<RequestOrInvalid> items = all(planner.plan(row, null));
        assertEquals(1, items.size());
        assertNull(items.get(0).request());
        assertEquals(
                planner.invalid((ValidationResult.Invalid) planner.validate(row)),
                items.get(0).invalid());
        assertEquals(Status.INVALID, items.get(0).invalid().status());
    }

    @Test
    void aLineThatIsNotJsonIsOneInvalidRowQuotingAtMost200Characters() {
        PromptRow row = PromptRow.fromColumns(6, null, Map.of());
        String line = "{not json " + "x".repeat(300);
        List<RequestOrInvalid> items = all(planner.plan(row, line));
        assertEquals(1, items.size());
        assertNull(items.get(0).request());
        String error = items.get(0).invalid().error();
        assertEquals("row 6 is not valid JSON: " + line.substring(0, 200) + "…", error);
        assertEquals(Status.INVALID, items.get(0).invalid().status());
        assertEquals(6, items.get(0).invalid().sourceRow());

        String shortLine = "this is not json";
        String shortError = all(planner.plan(row, shortLine)).get(0).invalid().error();
        assertTrue(shortError.endsWith(": " + shortLine), shortError);
    }

    @Test
    void numberingKeepsInvalidRowsAndNumbersRequests() {
        PromptRow row = PromptRow.fromColumns(4, null, Map.of("prompt", "a red fox"));
        RequestOrInvalid request = all(planner.plan(row, null)).get(0);
        assertEquals(-1, request.request().ordinal());
        assertEquals(17, request.withOrdinal(17).request().ordinal());
        RequestOrInvalid invalid = all(planner.plan(row, "bad")).get(0);
        assertEquals(invalid, invalid.withOrdinal(17));
    }
}
