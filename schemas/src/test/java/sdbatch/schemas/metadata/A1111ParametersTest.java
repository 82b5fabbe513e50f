package sdbatch.schemas.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sdbatch.schemas.GenerationRequest;

class A1111ParametersTest {
    static final String HASH = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    static GenerationRequest req(
            String prompt, String neg, String sch, double g, int clip, double eta) {
        return new GenerationRequest(
                prompt,
                neg,
                965400086L,
                20,
                g,
                sch,
                "{}",
                512,
                768,
                eta,
                clip,
                0,
                "r",
                0,
                Map.of(),
                null,
                null,
                null);
    }

    @Test
    void formatsLikeA1111() {
        String text =
                A1111Parameters.of(req("a cat", "", "euler_a", 7, 0, 0), "tiny-sd1", HASH)
                        .toInfotext();
        assertEquals(
                "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: 965400086, Size: 512x768,"
                        + " Model hash: 0123456789, Model: tiny-sd1, RNG: CPU",
                text);
        String withNeg =
                A1111Parameters.of(
                                req("a cat", "ugly", "dpmpp_2m_karras", 7.5, 1, 0), "m,x:y", HASH)
                        .toInfotext();
        assertEquals(
                "a cat\nNegative prompt: ugly\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7.5,"
                        + " Seed: 965400086, Size: 512x768, Model hash: 0123456789, Model: mxy,"
                        + " Clip skip: 2, RNG: CPU",
                withNeg);
        assertTrue(
                A1111Parameters.of(req("p", "", "ddim", 7.5, 0, 0.5), "m", HASH)
                        .toInfotext()
                        .contains("Eta DDIM: 0.5"));
    }

    @Test
    void quotesLikeA1111() {
        assertEquals("plain", A1111Parameters.quote("plain"));
        assertEquals("\"a, b\"", A1111Parameters.quote("a, b"));
        assertEquals(
                "\"k: v \\\"q\\\" \\\\ \\n\u00e9\"",
                A1111Parameters.quote("k: v \"q\" \\ \n\u00e9"));
        assertEquals("a \"b\"", A1111Parameters.quote("a \"b\""));
        assertEquals(
                "k: v \"q\" \\ \n\u00e9",
                A1111Parameters.unquote("\"k: v \\\"q\\\" \\\\ \\n\\u00e9\""));
        assertEquals("\"broken", A1111Parameters.unquote("\"broken"));
    }

    @Test
    void parsesA1111DocstringExample() {
        // The example in A1111's parse_generation_parameters docstring.
        A1111Parameters p =
                A1111Parameters.parse(
                        "girl with an artist's beret, determined, blue eyes, desert scene\n"
                                + "Negative prompt: ugly, fat, obese, chubby, (((deformed))), [blurry]\n"
                                + "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512,"
                                + " Model hash: 45dee52b");
        assertEquals(
                "girl with an artist's beret, determined, blue eyes, desert scene", p.prompt());
        assertEquals("ugly, fat, obese, chubby, (((deformed))), [blurry]", p.negativePrompt());
        assertEquals(20, p.steps());
        assertEquals("Euler a", p.sampler());
        assertEquals(7.0, p.cfgScale());
        assertEquals(965400086L, p.seed());
        assertEquals(512, p.width());
        assertEquals("45dee52b", p.modelHash());
        assertFalse(p.clipSkip().isPresent());
    }

    static Stream<Arguments> roundTrips() {
        return Stream.of(
                Arguments.of("simple", "a cat", "", "euler_a", 0),
                Arguments.of("negative", "a cat, sitting", "blurry, ugly", "dpmpp_2m", 1),
                Arguments.of(
                        "multi-line",
                        "line one\nline two, with comma\nthree: colon",
                        "neg 1\nneg 2",
                        "pndm",
                        2),
                Arguments.of("empty prompt", "", "", "ddim", 0),
                Arguments.of("empty prompt, negative", "", "no", "heun", 0),
                Arguments.of(
                        "unicode",
                        "\u05e9\u05dc\u05d5\u05dd \ud83d\ude00 caf\u00e9 \"quoted\"",
                        "\u00e9",
                        "unipc",
                        3),
                Arguments.of("looks like params", "Steps: 1, Seed: 2, Size: 3x3", "", "lms", 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roundTrips")
    void formatThenParseGivesTheSameValues(
            String name, String prompt, String neg, String sch, int clip) {
        GenerationRequest r = req(prompt, neg, sch, 12.25, clip, 0);
        A1111Parameters written = A1111Parameters.of(r, "my: model, v1", HASH);
        A1111Parameters read = A1111Parameters.parse(written.toInfotext());
        assertEquals(written, read, written.toInfotext());
        assertEquals(prompt, read.prompt());
        assertEquals(neg, read.negativePrompt());
        assertEquals(20, read.steps());
        assertEquals(12.25, read.cfgScale());
        assertEquals(965400086L, read.seed());
        assertEquals(512, read.width());
        assertEquals(768, read.height());
        assertEquals("my model v1", read.model());
        assertEquals(clip == 0 ? OptionalInt.empty() : OptionalInt.of(clip + 1), read.clipSkip());
        assertEquals("CPU", read.get("RNG"));
    }

    @Test
    void quotedValuesRoundTrip() {
        Map<String, String> params = new java.util.LinkedHashMap<>();
        params.put("Steps", "20");
        params.put("Sampler", "Euler");
        params.put("Note", "a, b: c\nd \"e\" \\ f");
        params.put("Seed", "1");
        A1111Parameters p = new A1111Parameters("p", "", params);
        assertEquals(p, A1111Parameters.parse(p.toInfotext()));
    }
}
