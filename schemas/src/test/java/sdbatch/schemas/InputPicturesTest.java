package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.metadata.A1111Parameters;
import sdbatch.schemas.metadata.ImageId;
import sdbatch.schemas.sweep.SweepExpander;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.RowValidator;
import sdbatch.schemas.validate.ValidationResult;

/**
 * The picture columns: their row rules, the {@code --strengths} sweep, image ids over the pictures'
 * content, the request JSON and A1111's {@code Denoising strength}.
 */
class InputPicturesTest {
    private static final String SHA_A = "a".repeat(64);
    private static final String SHA_B = "b".repeat(64);
    private static final String ID = "c".repeat(32);
    private static final RequestDefaults D = RequestDefaults.forModel("ddim", 64, 64, 12);

    private static PromptRow row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", "a fox");
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return PromptRow.fromColumns(3, "t.csv:4", m);
    }

    private static String errors(PromptRow r) {
        ValidationResult v = RowValidator.validate(r, D);
        return v instanceof ValidationResult.Invalid inv ? inv.message() : "";
    }

    @Test
    void rowRules() {
        assertEquals("", errors(row("init_image", "a.png", "strength", "0.4", "paste_back", "0")));
        assertEquals(
                "",
                errors(row("init_image", "a.png", "mask_image", "m.png", "paste_back", "TRUE")));
        assertTrue(errors(row("mask_image", "m.png")).contains("mask_image \"m.png\": needs an"));
        assertTrue(errors(row("init_image", "a.png", "strength", 0.0)).contains("(0, 1]"));
        assertTrue(errors(row("init_image", "a.png", "strength", 1.01)).contains("(0, 1]"));
        assertTrue(errors(row("strength", 0.5)).contains("only to rows with an init_image"));
        assertTrue(errors(row("init_image", "a.png", "paste_back", true)).contains("inpainting"));
        assertTrue(errors(row("init_image", " ")).contains("is blank"));
        assertTrue(errors(row("init_image", "a.png", "paste_back", "yes")).contains("boolean"));
    }

    private static InputPictures.Read read(String sha, String maskSha) {
        return new InputPictures.Read(
                "file:/p/a.png",
                sha,
                80,
                48,
                maskSha == null ? null : "file:/p/m.png",
                maskSha,
                null);
    }

    @Test
    void strengthsSweepOnlyRowsWithPicturesInScheduleOrder() {
        SweepSpec spec = SweepSpec.parse("1,2", null, null, null, null, "0.3,0.5,0.8", null);
        PromptRow text = row();
        assertEquals(2, SweepExpander.count(text, spec), "a text row ignores --strengths");
        PromptRow picture = row("init_image", "a.png");
        assertEquals(6, SweepExpander.count(picture, spec));
        List<GenerationRequest> all =
                SweepExpander.expandAll(
                        new ValidationResult.Valid(picture), spec, D, read(SHA_A, null));
        assertEquals(6, all.size());
        assertEquals(
                List.of(0.3, 0.3, 0.5, 0.5, 0.8, 0.8),
                all.stream().map(r -> r.pictures().strength()).toList(),
                "strengths outside seeds");
        assertEquals(List.of(1L, 2L, 1L, 2L, 1L, 2L), all.stream().map(r -> r.seed()).toList());
        assertEquals(6, all.stream().map(r -> ImageId.of("m", r)).distinct().count());
        // A row's own strength wins; none at all is diffusers' default of the mode.
        assertEquals(
                1,
                SweepExpander.count(row("init_image", "a.png", "strength", 0.5, "seed", 1), spec));
        GenerationRequest inpaint =
                SweepExpander.expandAll(
                                new ValidationResult.Valid(
                                        row("init_image", "a", "mask_image", "m", "seed", 1)),
                                SweepSpec.NONE,
                                D,
                                read(SHA_A, SHA_B))
                        .get(0);
        assertEquals(1.0, inpaint.pictures().strength());
        assertEquals("inpaint", inpaint.pictures().mode());
        assertThrows(
                IllegalArgumentException.class,
                () -> SweepExpander.expandAll(new ValidationResult.Valid(picture), spec, D));
        assertTrue(spec.validate(D).isEmpty());
        // int(steps x strength) must leave a step: 3 x 0.3 = 0.9 runs none, 4 x 0.3 runs one.
        PromptRow three = row("init_image", "a.png", "steps", 3);
        assertEquals(
                "steps x strength 3 x 0.3: runs no denoising step (diffusers keeps int(steps x"
                        + " strength) of them): raise steps or strength",
                SweepExpander.checkSchedules(three, spec, D, false).get(0).message());
        assertEquals(1, SweepExpander.checkSchedules(three, spec, D, false).size());
        assertTrue(
                SweepExpander.checkSchedules(row("init_image", "a.png", "steps", 4), spec, D, false)
                        .isEmpty());
        assertEquals(
                "--strengths",
                SweepSpec.parse(null, null, null, null, null, "1.5", null)
                        .validate(D)
                        .get(0)
                        .column());
    }

    @Test
    void aRowWithoutStepsGuidanceOrStrengthGetsItsFamilysPipelineDefaults() {
        PromptRow picture = row("init_image", "a.png", "seed", 1);
        GenerationRequest sd =
                SweepExpander.expandAll(
                                new ValidationResult.Valid(picture),
                                SweepSpec.NONE,
                                D,
                                read(SHA_A, null))
                        .get(0);
        assertEquals(50, sd.steps());
        assertEquals(7.5, sd.guidanceScale());
        assertEquals(0.8, sd.pictures().strength());
        // StableDiffusionXLImg2ImgPipeline: guidance 5.0, strength 0.3; inpainting keeps 1.0.
        RequestDefaults sdxl = D.withCallDefaults(50, 5.0, 0.3);
        GenerationRequest xl =
                SweepExpander.expandAll(
                                new ValidationResult.Valid(picture),
                                SweepSpec.NONE,
                                sdxl,
                                read(SHA_A, null))
                        .get(0);
        assertEquals(5.0, xl.guidanceScale());
        assertEquals(0.3, xl.pictures().strength());
        assertEquals(1.0, sdxl.strengthDefault(true));
        // SD3: 28 steps; the row's own value and the flags still win over the family's.
        RequestDefaults sd3 = D.withCallDefaults(28, 7.0, 0.6);
        GenerationRequest text =
                SweepExpander.expandAll(
                                new ValidationResult.Valid(row("seed", 1)), SweepSpec.NONE, sd3)
                        .get(0);
        assertEquals(28, text.steps());
        assertEquals(7.0, text.guidanceScale());
        GenerationRequest flagged =
                SweepExpander.expandAll(
                                new ValidationResult.Valid(row("seed", 1, "guidance_scale", 3)),
                                SweepSpec.parse(null, null, null, "12", null),
                                sd3)
                        .get(0);
        assertEquals(12, flagged.steps());
        assertEquals(3.0, flagged.guidanceScale());
    }

    @Test
    void imageIdsHashPictureContentNotLocations() {
        GenerationRequest text =
                new GenerationRequest(
                        "p", "", 1, 20, 7.5, "ddim", "{}", 64, 64, 0, 0, 0, "s", 0, null, null,
                        null, null);
        InputPictures a = new InputPictures("file:/x/a.png", SHA_A, null, null, 0.8, false, null);
        String idA = ImageId.of("m", text.withPictures(a));
        assertNotEquals(ImageId.of("m", text), idA, "img2img is another image");
        InputPictures elsewhere =
                new InputPictures("s3a://b/other.png", SHA_A, null, null, 0.8, false, "w");
        assertEquals(idA, ImageId.of("m", text.withPictures(elsewhere)), "same bytes, same id");
        InputPictures changed =
                new InputPictures("file:/x/a.png", SHA_B, null, null, 0.8, false, null);
        assertNotEquals(idA, ImageId.of("m", text.withPictures(changed)), "new bytes, new id");
        InputPictures stronger =
                new InputPictures("file:/x/a.png", SHA_A, null, null, 0.5, false, null);
        assertNotEquals(idA, ImageId.of("m", text.withPictures(stronger)));
        InputPictures masked =
                new InputPictures("file:/x/a.png", SHA_A, "file:/m.png", SHA_B, 0.8, false, null);
        InputPictures pasted =
                new InputPictures("file:/x/a.png", SHA_A, "file:/m.png", SHA_B, 0.8, true, null);
        assertNotEquals(
                ImageId.of("m", text.withPictures(masked)),
                ImageId.of("m", text.withPictures(pasted)));
    }

    @Test
    void jsonAndInfotextCarryThePictures() {
        GenerationRequest r =
                new GenerationRequest(
                                "p", "", 1, 20, 7.5, "ddim", "{}", 64, 64, 0, 0, 0, "s", 0, null,
                                null, null, null)
                        .withPictures(
                                new InputPictures(
                                        "file:/x/a.png",
                                        SHA_A,
                                        "file:/m.png",
                                        SHA_B,
                                        0.75,
                                        true,
                                        null));
        String json = r.toJson();
        assertTrue(json.contains("\"init_image_sha256\":\"" + SHA_A + "\""), json);
        assertEquals(r, GenerationRequest.fromJson(json));
        GenerationRequest text =
                new GenerationRequest(
                        "p", "", 1, 20, 7.5, "ddim", "{}", 64, 64, 0, 0, 0, "s", 0, null, null,
                        null, null);
        assertTrue(!text.toJson().contains("init_image"), text.toJson());
        assertNull(GenerationRequest.fromJson(text.toJson()).pictures());

        A1111Parameters p = A1111Parameters.of(r, "model", "0123456789");
        String infotext = p.toInfotext();
        assertTrue(infotext.contains("Model: model, Denoising strength: 0.75, RNG: CPU"), infotext);
        assertEquals(0.75, A1111Parameters.parse(infotext).denoisingStrength());
        assertNull(A1111Parameters.of(text, "model", "0123456789").denoisingStrength());
        assertInstanceOf(Double.class, r.parameters().strength());
        assertEquals(Boolean.TRUE, r.parameters().pasteBack());
    }

    @Test
    void aGenerationWarningFollowsThePicturesWarningInTheWarningColumn() {
        GenerationRequest text =
                new GenerationRequest(
                        "p", "", 1, 20, 7.5, "ddim", "{}", 64, 64, 0, 0, 0, "s", 0, null, null,
                        null, null);
        InputPictures black =
                new InputPictures(
                        "file:/x/a.png", SHA_A, "file:/m.png", SHA_B, 0.8, false, "mask black");
        ResultRow withPictures =
                ResultRow.of(
                        text.withPictures(black),
                        ID,
                        "m",
                        ResultRow.Outcome.written("file:/o/x.png", SHA_A, 1),
                        null,
                        null);
        assertEquals("mask black", withPictures.value(Columns.WARNING));
        assertEquals(
                "mask black; prompt cut",
                withPictures.withAddedWarning("prompt cut").value(Columns.WARNING));
        assertEquals("mask black", withPictures.withAddedWarning(null).value(Columns.WARNING));
        ResultRow plain =
                ResultRow.of(
                        text,
                        ID,
                        "m",
                        ResultRow.Outcome.written("file:/o/x.png", SHA_A, 1),
                        null,
                        null);
        assertNull(plain.value(Columns.WARNING));
        assertEquals("prompt cut", plain.withAddedWarning("prompt cut").value(Columns.WARNING));
        assertEquals(
                "prompt cut",
                ResultRow.of(text, ID, "m", ResultRow.Outcome.failed("boom"), null, null)
                        .withAddedWarning("prompt cut")
                        .value(Columns.WARNING));
    }
}
