package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.ValidationResult;

class PlannedRequestTest {
    private static final RowPlanner PLANNER =
            new RowPlanner(RowPlannerTest.MODEL, SweepSpec.NONE, null, null);

    /** {@code n} identical input rows ("same", seed 1), numbered in row order. */
    private static List<PlannedRequest> identicalRows(int n) {
        PromptRow first = PromptRow.fromColumns(0, null, Map.of("prompt", "same", "seed", 1L));
        PlannedRequest p = PLANNER.expand((ValidationResult.Valid) PLANNER.validate(first)).next();
        List<PlannedRequest> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            GenerationRequest r = p.request();
            GenerationRequest row =
                    new GenerationRequest(
                            r.prompt(),
                            r.negativePrompt(),
                            r.seed(),
                            r.steps(),
                            r.guidanceScale(),
                            r.scheduler(),
                            r.schedulerConfig(),
                            r.width(),
                            r.height(),
                            r.eta(),
                            r.clipSkip(),
                            i,
                            "row-" + i,
                            0,
                            r.passthrough(),
                            null,
                            null,
                            null);
            out.add(new PlannedRequest(i, p.imageId(), row, List.of()));
        }
        return out;
    }

    /**
     * Issue 15 item 10: 200,000 identical rows fold into one image with 199,999 duplicates in
     * seconds. The pairwise merge this replaces copied and sorted the growing list per row: on the
     * same 2-core machine it took 17 s for 40,000 rows and over 5 minutes for 200,000.
     */
    @Test
    void twoHundredThousandIdenticalRowsFoldInSeconds() {
        List<PlannedRequest> rows = identicalRows(200_000);
        List<PlannedRequest> shuffled = new ArrayList<>(rows);
        Collections.shuffle(shuffled, new Random(7));
        PlannedRequest folded =
                assertTimeoutPreemptively(
                        Duration.ofSeconds(20),
                        () -> {
                            // As Spark's combineByKey does: folds per map partition, then
                            // combined.
                            PlannedRequest.Fold left = PlannedRequest.Fold.of(shuffled.get(0));
                            for (PlannedRequest p : shuffled.subList(1, 100_000)) {
                                left.add(p);
                            }
                            PlannedRequest.Fold right =
                                    PlannedRequest.Fold.of(shuffled.get(100_000));
                            for (PlannedRequest p : shuffled.subList(100_001, 200_000)) {
                                right.add(p);
                            }
                            return left.addAll(right).result();
                        });
        assertEquals(0, folded.ordinal());
        assertEquals(0, folded.request().sourceRow());
        assertEquals(199_999, folded.duplicates().size());
        for (int i = 0; i < folded.duplicates().size(); i++) {
            assertEquals(i + 1, folded.duplicates().get(i).sourceRow(), "row order");
        }
    }

    @Test
    void aFoldIsTheSameInAnyOrderAndEqualsPairwiseMerges() {
        List<PlannedRequest> rows = identicalRows(6);
        PlannedRequest pairwise =
                PlannedRequest.merge(
                        PlannedRequest.merge(rows.get(4), rows.get(1)),
                        PlannedRequest.merge(
                                rows.get(5),
                                PlannedRequest.merge(
                                        rows.get(0),
                                        PlannedRequest.merge(rows.get(3), rows.get(2)))));
        for (long seed = 0; seed < 20; seed++) {
            List<PlannedRequest> order = new ArrayList<>(rows);
            Collections.shuffle(order, new Random(seed));
            PlannedRequest.Fold a = PlannedRequest.Fold.of(order.get(0)).add(order.get(1));
            PlannedRequest.Fold b = PlannedRequest.Fold.of(order.get(2));
            for (PlannedRequest p : order.subList(3, 6)) {
                b.add(p);
            }
            PlannedRequest.Fold combined = seed % 2 == 0 ? a.addAll(b) : b.addAll(a);
            assertEquals(pairwise, combined.result(), "order " + seed);
        }
        assertEquals(0, pairwise.ordinal());
        assertEquals(
                List.of(1L, 2L, 3L, 4L, 5L),
                pairwise.duplicates().stream().map(GenerationRequest::sourceRow).toList());
    }

    @Test
    void plansOfOtherImagesDoNotFold() {
        PlannedRequest a = identicalRows(1).get(0);
        PlannedRequest other = new PlannedRequest(9, "other-id", a.request(), List.of());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> PlannedRequest.Fold.of(a).add(other));
        assertTrue(e.getMessage().contains("other-id"), e.getMessage());
    }

    @Test
    void picturesBatchByModeAndStrengthAndTextRowsAsBefore() {
        GenerationRequest text =
                new GenerationRequest(
                        "a", "", 1, 20, 7.5, "ddim", "{}", 64, 64, 0, 0, 0, "s", 0, null, null,
                        null, null);
        GenerationRequest otherText =
                new GenerationRequest(
                        "b", "", 2, 20, 3.0, "ddim", "{}", 64, 64, 0, 0, 1, "s", 0, null, null,
                        null, null);
        String a = "a".repeat(64);
        String b = "b".repeat(64);
        java.util.function.Function<GenerationRequest, List<Object>> key =
                r -> new PlannedRequest(0, "00", r, List.of()).batchKey();
        assertEquals(key.apply(text), key.apply(otherText), "prompt, seed, guidance may differ");
        GenerationRequest img =
                text.withPictures(
                        new sdbatch.schemas.InputPictures(
                                "file:/a", a, null, null, 0.5, false, null));
        GenerationRequest otherPicture =
                otherText.withPictures(
                        new sdbatch.schemas.InputPictures(
                                "file:/b", b, null, null, 0.5, false, null));
        GenerationRequest stronger =
                text.withPictures(
                        new sdbatch.schemas.InputPictures(
                                "file:/a", a, null, null, 0.8, false, null));
        GenerationRequest inpaint =
                text.withPictures(
                        new sdbatch.schemas.InputPictures(
                                "file:/a", a, "file:/m", b, 0.5, false, null));
        assertEquals(key.apply(img), key.apply(otherPicture), "pictures themselves may differ");
        assertTrue(!key.apply(img).equals(key.apply(text)), "not with text-to-image");
        assertTrue(!key.apply(img).equals(key.apply(stronger)), "the strength moves the start");
        assertTrue(!key.apply(img).equals(key.apply(inpaint)), "not with inpainting");
        // Cost counts the steps that run: 20 x 0.5 = 10 of 20.
        assertEquals(
                CostPartitioner.cost(10, 64, 64),
                new PlannedRequest(0, "00", img, List.of()).cost());
        assertEquals(
                CostPartitioner.cost(20, 64, 64),
                new PlannedRequest(0, "00", text, List.of()).cost());
    }
}
