package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdbatch.jobs.spark.ImageRequests;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.MicroConditioning;
import sdbatch.schemas.Columns;
import sdbatch.schemas.ExtraConditioning;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.ValidationResult;

/**
 * The model family decides which SDXL/SD3 columns a row's requests keep (issues 16, 19), and what a
 * null negative prompt is; the kept values reach the pipeline's {@link ImageRequest}.
 */
class FamilyColumnsTest {

    private static ModelFacts model(FamilyColumns family) {
        return RowPlannerTest.MODEL.withFamily(family);
    }

    private static PromptRow row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", "a cat");
        m.put("seed", 5L);
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return PromptRow.fromColumns(0, null, m);
    }

    private static PlannedRequest plan(FamilyColumns family, PromptRow r) {
        RowPlanner p = new RowPlanner(model(family), SweepSpec.NONE, null, null);
        ValidationResult v = p.validate(r);
        assertTrue(v.isValid(), v::toString);
        List<PlannedRequest> out = new ArrayList<>();
        p.expand((ValidationResult.Valid) v).forEachRemaining(out::add);
        assertEquals(1, out.size());
        return out.get(0);
    }

    static final Object[] ALL = {
        "prompt_2", "a dog",
        "negative_prompt_2", "ugly",
        "prompt_3", "a bird",
        "negative_prompt_3", "fog",
        "max_sequence_length", 77,
        "original_width", 1024,
        "original_height", 768,
        "crop_top", 8,
        "crop_left", 0,
        "target_width", 512,
        "target_height", 512,
        "guidance_rescale", 0.7
    };

    @Test
    void theFolderClassNameDecidesTheFamily() {
        assertEquals("SD 1.x/2.x", FamilyColumns.of("StableDiffusionPipeline", null).family());
        assertEquals(
                "SD 1.x/2.x", FamilyColumns.of("StableDiffusionInpaintPipeline", null).family());
        assertEquals("SDXL", FamilyColumns.of("StableDiffusionXLPipeline", null).family());
        assertEquals("SD3", FamilyColumns.of("StableDiffusion3Pipeline", null).family());
        assertTrue(FamilyColumns.of("StableDiffusionXLPipeline", null).nullNegativeDiffers());
        assertTrue(!FamilyColumns.of("StableDiffusionXLPipeline", false).nullNegativeDiffers());
        assertTrue(!FamilyColumns.of("StableDiffusion3Pipeline", null).nullNegativeDiffers());
        // guidance_rescale is every family's.
        for (String c :
                List.of(
                        "StableDiffusionPipeline",
                        "StableDiffusionXLPipeline",
                        "StableDiffusion3Pipeline")) {
            assertTrue(!FamilyColumns.of(c, null).unused().contains(Columns.GUIDANCE_RESCALE));
        }
    }

    @Test
    void eachFamilyKeepsItsColumns() {
        ExtraConditioning sd = plan(FamilyColumns.SD, row(ALL)).request().extra();
        assertEquals(
                new ExtraConditioning(
                        null, null, null, null, null, null, null, null, null, null, null, 0.7),
                sd);
        ExtraConditioning xl =
                plan(FamilyColumns.of("StableDiffusionXLPipeline", null), row(ALL))
                        .request()
                        .extra();
        assertEquals(
                new ExtraConditioning(
                        "a dog", "ugly", null, null, null, 1024, 768, 8, 0, 512, 512, 0.7),
                xl);
        ExtraConditioning sd3 =
                plan(FamilyColumns.of("StableDiffusion3Pipeline", null), row(ALL))
                        .request()
                        .extra();
        assertEquals(
                new ExtraConditioning(
                        "a dog", "ugly", "a bird", "fog", 77, null, null, null, null, null, null,
                        0.7),
                sd3);
        // Ignored columns are not in the id: an SD 1.x row with SDXL columns is the plain image.
        assertEquals(
                plan(FamilyColumns.SD, row("prompt_2", "x", "crop_top", 3)).imageId(),
                plan(FamilyColumns.SD, row()).imageId());
    }

    @Test
    void aNullNegativePromptIsAnotherImageOnlyOnSdxl() {
        FamilyColumns xl = FamilyColumns.of("StableDiffusionXLPipeline", null);
        PlannedRequest none = plan(xl, row());
        PlannedRequest empty = plan(xl, row("negative_prompt", ""));
        assertNull(none.request().negativePrompt());
        assertEquals("", empty.request().negativePrompt());
        assertNotEquals(none.imageId(), empty.imageId());
        // force_zeros_for_empty_prompt false, SD 1.x and SD3: none is "", one image.
        for (FamilyColumns f :
                List.of(
                        FamilyColumns.of("StableDiffusionXLPipeline", false),
                        FamilyColumns.SD,
                        FamilyColumns.of("StableDiffusion3Pipeline", null))) {
            assertEquals("", plan(f, row()).request().negativePrompt());
            assertEquals(plan(f, row()).imageId(), plan(f, row("negative_prompt", "")).imageId());
        }
        // The same seed either way: seeds derived from the row read none as "".
        assertEquals(
                plan(xl, row("seed", null)).request().seed(),
                plan(xl, row("seed", null, "negative_prompt", "")).request().seed());
    }

    @Test
    void theValuesReachThePipelinesRequest() {
        GenerationRequest q =
                plan(FamilyColumns.of("StableDiffusionXLPipeline", null), row(ALL)).request();
        ImageRequest r = ImageRequests.toImageRequest(q);
        assertNull(r.negativePrompt()); // null stays null: SDXL's zeros
        assertEquals("a dog", r.prompt2());
        assertEquals("ugly", r.negativePrompt2());
        assertEquals(new MicroConditioning(1024, 768, 8, 0, 512, 512), r.microConditioning());
        assertEquals(0.7, r.guidanceRescale());
        assertNull(r.prompt3());
        ImageRequest sd3 =
                ImageRequests.toImageRequest(
                        plan(FamilyColumns.of("StableDiffusion3Pipeline", null), row(ALL))
                                .request());
        assertEquals("", sd3.negativePrompt());
        assertEquals("a bird", sd3.prompt3());
        assertEquals("fog", sd3.negativePrompt3());
        assertEquals(77, sd3.maxSequenceLength());
        assertNull(sd3.microConditioning());
        ImageRequest plain = ImageRequests.toImageRequest(plan(FamilyColumns.SD, row()).request());
        assertNull(plain.guidanceRescale());
        assertNull(plain.prompt2());
    }

    @Test
    void oneWarningNamesTheIgnoredColumnsWithTheirRowCounts() {
        FamilyColumns sd = FamilyColumns.SD;
        assertNull(sd.warning(Map.of(Columns.GUIDANCE_RESCALE, 10L, Columns.PROMPT_2, 0L)));
        String w =
                sd.warning(
                        Map.of(
                                Columns.CROP_TOP, 1L,
                                Columns.PROMPT_2, 3L,
                                Columns.GUIDANCE_RESCALE, 10L));
        assertEquals(
                "the model is SD 1.x/2.x (StableDiffusionPipeline), which does not use prompt_2 (3"
                        + " rows), crop_top (1 row): ignored (not in the image ids nor the"
                        + " metadata; the table may serve other families)",
                w);
        assertNull(
                FamilyColumns.of("StableDiffusionXLPipeline", null)
                        .warning(Map.of(Columns.PROMPT_2, 3L, Columns.CROP_TOP, 1L)));
    }
}
