package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.ResultRow;
import sdbatch.schemas.Status;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.ValidationResult;

class RowPlannerTest {
    static final ModelFacts MODEL =
            new ModelFacts(
                    "file:/m#unet=abc",
                    "m",
                    "abc",
                    64,
                    "pndm",
                    "{\"_class_name\": \"PNDMScheduler\", \"skip_prk_steps\": true}",
                    4,
                    2048L * 2048L);

    private static PromptRow row(long n, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return PromptRow.fromColumns(n, null, m);
    }

    private static List<PlannedRequest> expand(RowPlanner p, PromptRow r) {
        ValidationResult v = p.validate(r);
        assertTrue(v.isValid(), v.toString());
        List<PlannedRequest> out = new ArrayList<>();
        p.expand((ValidationResult.Valid) v).forEachRemaining(out::add);
        return out;
    }

    @Test
    void schedulersAreResolvedAndCheckedByThePipelineRegistry() {
        RowPlanner p = new RowPlanner(MODEL, SweepSpec.NONE, null, null);
        assertEquals(
                "euler_a",
                expand(p, row(0, "prompt", "a", "scheduler", "Euler a"))
                        .get(0)
                        .request()
                        .scheduler());
        assertEquals(
                "pndm",
                expand(p, row(0, "prompt", "a", "scheduler", "default"))
                        .get(0)
                        .request()
                        .scheduler());
        assertEquals("pndm", expand(p, row(0, "prompt", "a")).get(0).request().scheduler());
        ValidationResult bad = p.validate(row(0, "prompt", "a", "scheduler", "warp"));
        assertTrue(((ValidationResult.Invalid) bad).message().startsWith("scheduler \"warp\""));
        ValidationResult key =
                p.validate(row(0, "prompt", "a", "scheduler_config", "{\"nope\": 1}"));
        String message = ((ValidationResult.Invalid) key).message();
        assertTrue(message.startsWith("scheduler_config"), message);
        assertTrue(message.contains("nope"), message);
        assertTrue(
                p.validate(
                                row(
                                        0,
                                        "prompt",
                                        "a",
                                        "scheduler",
                                        "ddim",
                                        "scheduler_config",
                                        "{\"timestep_spacing\": \"trailing\"}"))
                        .isValid());
        ResultRow invalid = p.invalid((ValidationResult.Invalid) bad);
        assertEquals(Status.INVALID, invalid.status());
        assertEquals("file:/m#unet=abc", invalid.model());
    }

    @Test
    void defaultsComeFromTheModelAndFlags() {
        RowPlanner p =
                new RowPlanner(MODEL, SweepSpec.parse("1-3", null, "2,7", null, null), 128, null);
        List<PlannedRequest> r = expand(p, row(5, "prompt", "a", "label", "x"));
        assertEquals(6, r.size());
        GenerationRequest first = r.get(0).request();
        assertEquals(128, first.width());
        assertEquals(64, first.height());
        assertEquals(50, first.steps());
        assertEquals("x", first.passthrough().get("label"));
        assertEquals(32, r.get(0).imageId().length());
        assertEquals(6, r.stream().map(PlannedRequest::imageId).distinct().count());
        assertTrue(p.checkJob().isEmpty());
        RowPlanner badFlag =
                new RowPlanner(MODEL, SweepSpec.parse(null, null, null, "0", "warp"), 63, null);
        List<String> problems =
                badFlag.checkJob().stream().map(ValidationResult.Problem::column).toList();
        assertEquals(List.of("--steps", "--schedulers", "--width"), problems);
    }

    @Test
    void equalRequestsMergeIntoOneWithDuplicatesInRowOrder() {
        RowPlanner p = new RowPlanner(MODEL, SweepSpec.NONE, null, null);
        PlannedRequest a = expand(p, row(0, "prompt", "same", "seed", 1)).get(0).withOrdinal(0);
        PlannedRequest b = expand(p, row(1, "prompt", "same", "seed", 1)).get(0).withOrdinal(1);
        PlannedRequest c = expand(p, row(2, "prompt", "same", "seed", 1)).get(0).withOrdinal(2);
        PlannedRequest other = expand(p, row(3, "prompt", "same", "seed", 2)).get(0);
        assertEquals(a.imageId(), b.imageId());
        assertNotEquals(a.imageId(), other.imageId());
        PlannedRequest m1 = PlannedRequest.merge(PlannedRequest.merge(c, a), b);
        PlannedRequest m2 = PlannedRequest.merge(b, PlannedRequest.merge(a, c));
        assertEquals(m1, m2, "merge order does not matter");
        assertEquals(0, m1.ordinal());
        assertEquals(
                List.of(1L, 2L),
                m1.duplicates().stream().map(GenerationRequest::sourceRow).toList());
        assertFalse(m1.batchKey().isEmpty());
        assertEquals(50L * 64 * 64, m1.cost());
    }
}
