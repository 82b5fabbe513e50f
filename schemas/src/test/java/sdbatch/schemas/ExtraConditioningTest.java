package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sdbatch.schemas.metadata.A1111Parameters;
import sdbatch.schemas.metadata.ImageId;
import sdbatch.schemas.sweep.SweepExpander;
import sdbatch.schemas.sweep.SweepSpec;
import sdbatch.schemas.util.Hashes;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.RowValidator;
import sdbatch.schemas.validate.ValidationResult;

/**
 * The SDXL/SD3 columns and guidance rescale (issues 16, 19) from a row to a request: typed reading,
 * the row rules, the sweep, the image id (only when set, so earlier ids stay), the request JSON.
 */
class ExtraConditioningTest {

    static final RequestDefaults D = RequestDefaults.forModel("PNDMScheduler", 64, 64, 5);

    static PromptRow row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", "a cat");
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return PromptRow.fromColumns(0, "t.csv:0", m);
    }

    static List<GenerationRequest> expand(PromptRow r, SweepSpec spec) {
        ValidationResult v = RowValidator.validate(r, D);
        assertTrue(v.isValid(), v::toString);
        return SweepExpander.expandAll((ValidationResult.Valid) v, spec, D);
    }

    @Test
    void csvTextIsTypedAndReachesTheRequest() {
        // CSV cells arrive as strings: the columns have their types.
        PromptRow r =
                row(
                        "prompt_2", "a dog",
                        "negative_prompt_2", "",
                        "prompt_3", "a bird",
                        "NEGATIVE_PROMPT_3", "blurry",
                        "max_sequence_length", "77",
                        "original_width", "1024",
                        "original_height", "768",
                        "crop_top", "0",
                        "crop_left", "16",
                        "target_width", "512",
                        "target_height", "512",
                        "guidance_rescale", "0.7");
        assertTrue(r.rejected().isEmpty(), r.rejected()::toString);
        GenerationRequest q = expand(r, SweepSpec.NONE).get(0);
        ExtraConditioning e = q.extra();
        assertEquals(
                new ExtraConditioning(
                        "a dog", null, "a bird", "blurry", 77, 1024, 768, 0, 16, 512, 512, 0.7),
                e);
        // The metadata columns say the values used ("" is diffusers' "the first prompt's").
        assertNull(q.parameters().extra().negativePrompt2());
        assertEquals(0.7, q.parameters().extra().guidanceRescale());
        assertEquals(16, q.parameters().extra().cropLeft());
    }

    @Test
    void aRowWithoutThemHasNoExtraAndItsIdIsTheDocumentedV1Encoding() throws Exception {
        GenerationRequest q = expand(row("seed", 7L, "steps", 20), SweepSpec.NONE).get(0);
        assertNull(q.extra());
        // The id of a request without the new columns, encoded here by hand from ImageId's
        // documented layout: what every earlier version computed.
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(buf)) {
            writeStrings(out, ImageId.VERSION, "m", "a cat", "");
            out.writeLong(7);
            out.writeInt(20);
            out.writeLong(Double.doubleToLongBits(7.5));
            writeStrings(out, "pndm", "{}");
            out.writeInt(64);
            out.writeInt(64);
            out.writeLong(Double.doubleToLongBits(0.0));
            out.writeInt(0);
        }
        assertEquals(
                Hashes.sha256Hex(buf.toByteArray()).substring(0, ImageId.LENGTH),
                ImageId.of("m", q));
    }

    @Test
    void idsHashTheColumnsOnlyWhenSet() {
        GenerationRequest plain = expand(row("seed", 1L), SweepSpec.NONE).get(0);
        String id = ImageId.of("m", plain);
        // guidance_rescale 0 is diffusers' "off": the same image, the same id.
        assertEquals(
                id,
                ImageId.of(
                        "m",
                        expand(row("seed", 1L, "guidance_rescale", 0.0), SweepSpec.NONE).get(0)));
        java.util.Set<String> ids = new java.util.HashSet<>();
        ids.add(id);
        for (Object[] kv :
                List.of(
                        new Object[] {"prompt_2", "a dog"},
                        new Object[] {"negative_prompt_2", "x"},
                        new Object[] {"prompt_3", "a dog"},
                        new Object[] {"negative_prompt_3", "x"},
                        new Object[] {"max_sequence_length", 77},
                        new Object[] {"original_width", 64},
                        new Object[] {"original_height", 64},
                        new Object[] {"crop_top", 0},
                        new Object[] {"crop_left", 0},
                        new Object[] {"target_width", 64},
                        new Object[] {"target_height", 64},
                        new Object[] {"guidance_rescale", 0.5})) {
            GenerationRequest q = expand(row("seed", 1L, kv[0], kv[1]), SweepSpec.NONE).get(0);
            assertTrue(ids.add(ImageId.of("m", q)), () -> kv[0] + " " + kv[1] + " kept the id");
        }
        // "" in the second and third prompts is diffusers' "the first prompt's": the plain image.
        for (String c : List.of("prompt_2", "negative_prompt_2", "prompt_3", "negative_prompt_3")) {
            assertEquals(
                    id, ImageId.of("m", expand(row("seed", 1L, c, ""), SweepSpec.NONE).get(0)), c);
        }
        // A null negative prompt (SDXL's "none": zeros) is another image than "".
        assertNotEquals(id, ImageId.of("m", plain.withNegativePrompt(null)));
        assertEquals(id, ImageId.of("m", plain.withNegativePrompt("")));
    }

    static Stream<Arguments> badRows() {
        return Stream.of(
                Arguments.of(
                        row("original_width", 0),
                        "original_width 0: must be > 0 (SDXL's micro-conditioning size"),
                Arguments.of(row("original_height", -8), "original_height -8: must be > 0"),
                Arguments.of(row("target_width", -1), "target_width -1: must be > 0"),
                Arguments.of(row("target_height", 0), "target_height 0: must be > 0"),
                Arguments.of(row("crop_top", -1), "crop_top -1: must be >= 0"),
                Arguments.of(row("crop_left", -64), "crop_left -64: must be >= 0"),
                Arguments.of(
                        row("guidance_rescale", 1.5),
                        "guidance_rescale 1.5: must be in [0, 1] (diffusers' guidance_rescale"),
                Arguments.of(row("guidance_rescale", -0.1), "guidance_rescale -0.1: must be in"),
                Arguments.of(row("guidance_rescale", "NaN"), "guidance_rescale NaN: must be in"),
                Arguments.of(
                        row("max_sequence_length", 513),
                        "max_sequence_length 513: must be between 1 and 512"),
                Arguments.of(
                        row("max_sequence_length", 0),
                        "max_sequence_length 0: must be between 1 and 512"),
                Arguments.of(row("crop_top", "abc"), "crop_top \"abc\": is not an integer"),
                Arguments.of(
                        row("prompt_3", "a\0b"), "prompt_3 \"a\\u0000b\": contains the character"));
    }

    @ParameterizedTest
    @MethodSource("badRows")
    void badValuesNameColumnValueAndRule(PromptRow r, String expected) {
        ValidationResult v = RowValidator.validate(r, D);
        assertFalse(v.isValid());
        String message = ((ValidationResult.Invalid) v).message();
        assertTrue(message.contains(expected), () -> "message: " + message);
    }

    @Test
    void boundsAreAccepted() {
        for (PromptRow r :
                List.of(
                        row("guidance_rescale", 0.0),
                        row("guidance_rescale", 1.0),
                        row("max_sequence_length", 1),
                        row("max_sequence_length", 512),
                        row("crop_top", 0, "crop_left", 0, "original_width", 1))) {
            assertTrue(RowValidator.validate(r, D).isValid(), r::toString);
        }
    }

    @Test
    void guidanceRescaleSweepsLikeGuidanceAndTheRowsOwnWins() {
        SweepSpec spec = SweepSpec.parse("1,2", null, "5,7", null, null, null, "0,0.7");
        assertTrue(spec.validate(D).isEmpty());
        List<GenerationRequest> all = expand(row(), spec);
        assertEquals(8, all.size());
        assertEquals(8, SweepExpander.count(row(), spec));
        // Seeds innermost, then rescales, then guidance scales.
        assertEquals(1, all.get(0).seed());
        assertEquals(2, all.get(1).seed());
        assertNull(all.get(0).extra()); // 0 = off = no extra
        assertEquals(0.7, all.get(2).extra().guidanceRescale());
        assertEquals(5.0, all.get(3).guidanceScale());
        assertEquals(7.0, all.get(4).guidanceScale());
        List<GenerationRequest> own = expand(row("guidance_rescale", 0.3), spec);
        assertEquals(4, own.size());
        assertTrue(own.stream().allMatch(q -> q.extra().guidanceRescale() == 0.3));
        // A flag value outside [0, 1] names the flag.
        assertEquals(
                "--guidance-rescale",
                SweepSpec.parse(null, null, null, null, null, null, "2")
                        .validate(D)
                        .get(0)
                        .column());
    }

    @Test
    void requestJsonRoundTripsTheColumnsAndANullNegativePrompt() {
        GenerationRequest q =
                expand(
                                row(
                                        "prompt_2",
                                        "a dog",
                                        "negative_prompt_2",
                                        "",
                                        "crop_left",
                                        8,
                                        "guidance_rescale",
                                        0.25),
                                SweepSpec.NONE)
                        .get(0)
                        .withNegativePrompt(null);
        String json = q.toJson();
        assertFalse(json.contains("\"negative_prompt\":"), json);
        assertTrue(json.contains("\"prompt_2\":\"a dog\""), json);
        assertFalse(json.contains("negative_prompt_2"), json); // "" = null: left out
        assertFalse(json.contains("prompt_3"), json); // unset columns are left out
        GenerationRequest back = GenerationRequest.fromJson(json);
        assertNull(back.negativePrompt());
        assertEquals(q.extra(), back.extra());
        assertEquals(ImageId.of("m", q), ImageId.of("m", back));
        // A plain request's JSON has none of the new keys (what earlier PNGs hold).
        String plain = expand(row(), SweepSpec.NONE).get(0).toJson();
        for (String c : ExtraConditioning.COLUMNS) {
            assertFalse(plain.contains("\"" + c + "\""), plain);
        }
        assertNull(GenerationRequest.fromJson(plain).extra());
    }

    @Test
    void familiesDropWhatTheyDoNotUse() {
        ExtraConditioning e =
                new ExtraConditioning(
                        "a", null, "b", null, 10, 1, null, null, null, null, null, 0.5);
        assertEquals(
                new ExtraConditioning(
                        null, null, "b", null, 10, null, null, null, null, null, null, 0.5),
                e.without(List.of(Columns.PROMPT_2, Columns.ORIGINAL_WIDTH)));
        assertNull(
                new ExtraConditioning(
                                "a", null, null, null, null, null, null, null, null, null, null,
                                null)
                        .without(List.of(Columns.PROMPT_2)));
    }

    @Test
    void a1111InfotextNamesAVaeOverrideAfterTheModel() {
        GenerationRequest q = expand(row("seed", 3L), SweepSpec.NONE).get(0);
        A1111Parameters p =
                A1111Parameters.of(q, "tiny", "0123456789abcdef")
                        .withVae("sdxl-vae-fp16-fix", "ABCDEF0123456789");
        List<String> keys = List.copyOf(p.params().keySet());
        assertEquals(keys.indexOf("Model") + 1, keys.indexOf("VAE hash"));
        assertEquals(keys.indexOf("Model") + 2, keys.indexOf("VAE"));
        A1111Parameters back = A1111Parameters.parse(p.toInfotext());
        assertEquals("abcdef0123", back.get("VAE hash"));
        assertEquals("sdxl-vae-fp16-fix", back.get("VAE"));
        // A null negative prompt writes no Negative prompt line, as "" does.
        assertFalse(
                A1111Parameters.of(q.withNegativePrompt(null), "tiny", "0123456789abcdef")
                        .toInfotext()
                        .contains("Negative prompt"));
    }

    /** Strings as ImageId encodes them: each one's UTF-8 length, then its bytes. */
    private static void writeStrings(DataOutputStream out, String... strings) throws IOException {
        for (String s : strings) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.writeInt(b.length);
            out.write(b);
        }
    }
}
