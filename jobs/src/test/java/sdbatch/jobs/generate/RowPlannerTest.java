package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
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
                    2048L * 2048L,
                    FamilyColumns.SD,
                    ModelFacts.CallDefaults.SD);

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
    void flowMatchingOnAnSdModelIsAnInvalidRowNamingTheSchedulersThatFit() {
        RowPlanner p = new RowPlanner(MODEL, SweepSpec.NONE, null, null);
        ValidationResult flow = p.validate(row(0, "prompt", "a", "scheduler", "flow_match_euler"));
        assertEquals(
                "scheduler \"flow_match_euler\": is FlowMatchEulerDiscreteScheduler, which does not"
                        + " fit an SD 1.x/2.x or SDXL model (trained for noise prediction, not flow"
                        + " matching); the schedulers that fit: default, ddim, pndm, lms, euler,"
                        + " euler_a, dpmpp_2m, dpmpp_2m_karras, ddpm, heun, unipc",
                ((ValidationResult.Invalid) flow).message());
        assertTrue(p.validate(row(0, "prompt", "a", "scheduler", "euler")).isValid());
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

    /** Plans one row that must come out as exactly one invalid metadata row; returns its error. */
    private static String plannedInvalid(RowPlanner p, PromptRow r) {
        List<RequestOrInvalid> out = new ArrayList<>();
        p.plan(r, null).forEachRemaining(out::add);
        assertEquals(1, out.size(), out.toString());
        ResultRow invalid = out.get(0).invalid();
        assertTrue(invalid != null, "row " + r.rowNumber() + " was planned as a request");
        assertEquals(Status.INVALID, invalid.status());
        assertEquals(r.rowNumber(), invalid.sourceRow());
        return invalid.error();
    }

    /**
     * Issue 15 item 2: an override a scheduler cannot use is an invalid row naming the key, found
     * before anything is allocated: {@code beta_end 1e999999999} used to pass validation (as
     * infinity) and then be written out as a billion-digit plain decimal; {@code
     * num_train_timesteps 2^31-1} sized the schedule arrays.
     */
    @Test
    void outOfRangeSchedulerOverridesAreInvalidRowsNamingTheKey() {
        RowPlanner p = new RowPlanner(MODEL, SweepSpec.NONE, null, null);
        Map<String, String> cases = new LinkedHashMap<>();
        cases.put("{\"beta_end\": 1e999999999}", "beta_end");
        cases.put("{\"beta_start\": 1e-999999999}", "beta_start");
        cases.put("{\"sigma_min\": 1e-999999999}", "sigma_min");
        cases.put("{\"num_train_timesteps\": 2147483647}", "num_train_timesteps");
        cases.put("{\"num_train_timesteps\": 10001}", "num_train_timesteps");
        cases.put("{\"beta_end\": 1.5}", "beta_end");
        cases.put("{\"beta_start\": 0}", "beta_start");
        cases.put("{\"steps_offset\": 100000}", "steps_offset");
        cases.put("{\"solver_order\": 1000000}", "solver_order");
        cases.put("{\"sample_max_value\": -1}", "sample_max_value");
        cases.put("{\"trained_betas\": [0.001, 2.0]}", "trained_betas[1]");
        long n = 7;
        for (Map.Entry<String, String> c : cases.entrySet()) {
            PromptRow r = row(n++, "prompt", "a", "scheduler_config", c.getKey());
            String error =
                    assertTimeoutPreemptively(
                            Duration.ofSeconds(30), () -> plannedInvalid(p, r), c.getKey());
            assertTrue(error.startsWith("scheduler_config"), error);
            assertTrue(error.contains(c.getValue()), c.getKey() + " -> " + error);
            assertTrue(error.length() < 1000, "the error is short: " + error.length());
        }
        // The ends of the ranges are still accepted.
        assertTrue(
                p.validate(
                                row(
                                        0,
                                        "prompt",
                                        "a",
                                        "scheduler_config",
                                        "{\"num_train_timesteps\": 10000, \"beta_end\": 0.999,"
                                                + " \"steps_offset\": 1}"))
                        .isValid());
    }

    /** Issue 15 item 10: a 200 MB prompt is an invalid row, not 200 MB copied into every stage. */
    @Test
    void aHugePromptIsAnInvalidRow() {
        RowPlanner p = new RowPlanner(MODEL, SweepSpec.NONE, null, null);
        String huge = "a".repeat(200 * 1024 * 1024);
        String error =
                assertTimeoutPreemptively(
                        Duration.ofSeconds(60), () -> plannedInvalid(p, row(3, "prompt", huge)));
        assertTrue(error.startsWith("prompt \"aaaa"), error.substring(0, 100));
        assertTrue(error.contains("(209715200 characters)"), error);
        assertTrue(error.contains("is longer than 100000 characters"), error);
        // The metadata row keeps the prompt cut to the bound, not 200 MB of it.
        List<RequestOrInvalid> planned = new ArrayList<>();
        p.plan(row(3, "prompt", huge), null).forEachRemaining(planned::add);
        assertEquals(100_000, planned.get(0).invalid().parameters().prompt().length());
        String negative =
                plannedInvalid(p, row(4, "prompt", "a", "negative_prompt", "b".repeat(100_001)));
        assertTrue(negative.startsWith("negative_prompt"), negative);
        // The bound itself is fine.
        assertTrue(p.validate(row(5, "prompt", "c".repeat(100_000))).isValid());
    }
}
