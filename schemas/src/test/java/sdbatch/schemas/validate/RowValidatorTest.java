package sdbatch.schemas.validate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.ValidationResult.Invalid;

class RowValidatorTest {

    static final RequestDefaults D =
            RequestDefaults.forModel("PNDMScheduler", 64, 64, 5)
                    .withSchedulerConfigCheck(
                            (s, o) ->
                                    o.keySet().stream()
                                            .filter(k -> !k.equals("use_karras_sigmas"))
                                            .findFirst()
                                            .map(k -> "key " + k + " is not a config key of " + s));

    static PromptRow row(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", "a cat");
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return PromptRow.fromColumns(0, null, m);
    }

    static Stream<Arguments> invalidRows() {
        return Stream.of(
                Arguments.of("null prompt", row("prompt", null), "prompt null: is required"),
                Arguments.of("steps 0", row("steps", 0), "steps 0: must be between 1 and 1000"),
                Arguments.of(
                        "steps 100000",
                        row("steps", 100000),
                        "steps 100000: must be between 1 and 1000"),
                Arguments.of("steps abc", row("steps", "abc"), "steps \"abc\": is not an integer"),
                Arguments.of(
                        "NaN guidance",
                        row("guidance_scale", Double.NaN),
                        "guidance_scale NaN: must be a finite"),
                Arguments.of(
                        "NaN guidance text",
                        row("guidance_scale", "nan"),
                        "guidance_scale NaN: must be a finite"),
                Arguments.of(
                        "negative guidance",
                        row("guidance_scale", -1.0),
                        "guidance_scale -1.0: must be"),
                Arguments.of(
                        "width 63", row("width", 63), "width 63: must be a positive multiple of 8"),
                Arguments.of(
                        "height 0", row("height", 0), "height 0: must be a positive multiple of 8"),
                Arguments.of(
                        "65536x65536",
                        row("width", 65536, "height", 65536),
                        "width x height 65536x65536: has 4294967296 pixels, more than the limit of 16777216"),
                Arguments.of(
                        "unknown scheduler",
                        row("scheduler", "euler_b"),
                        "scheduler \"euler_b\": is not a known scheduler; known: ddim"),
                Arguments.of(
                        "bad json",
                        row("scheduler_config", "{use_karras"),
                        "scheduler_config \"{use_karras\": is not valid JSON"),
                Arguments.of(
                        "json array",
                        row("scheduler_config", "[1]"),
                        "is not a JSON object (got an array)"),
                Arguments.of(
                        "bad key",
                        row("scheduler_config", "{\"foo\": 1}"),
                        "key foo is not a config key of pndm"),
                Arguments.of(
                        "clip_skip 5",
                        row("clip_skip", 5),
                        "clip_skip 5: must be between 0 and 4 (the text encoder has 5 layers)"),
                Arguments.of("clip_skip -1", row("clip_skip", -1), "clip_skip -1"),
                Arguments.of("eta -0.5", row("eta", -0.5), "eta -0.5: must be"),
                Arguments.of("seed -1", row("seed", -1), "seed -1: must be >= 0"),
                Arguments.of(
                        "NUL in prompt", row("prompt", "a\0b"), "prompt \"a\\u0000b\": contains"),
                Arguments.of("number prompt", row("prompt", 5), "prompt 5: is not a string"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidRows")
    void invalidRowsNameColumnValueAndRule(String name, PromptRow row, String expected) {
        ValidationResult r = RowValidator.validate(row, D);
        assertFalse(r.isValid(), name);
        String message = ((Invalid) r).message();
        assertTrue(message.contains(expected), () -> "message: " + message);
    }

    @Test
    void validRows() {
        for (PromptRow r :
                List.of(
                        row("prompt", ""),
                        row(),
                        row(
                                "prompt",
                                "\u05e9\u05dc\u05d5\u05dd \ud83d\ude00",
                                "steps",
                                1000,
                                "guidance_scale",
                                0.0),
                        row("width", 512, "height", 768, "scheduler", "DPM++ 2M Karras"),
                        row(
                                "scheduler_config",
                                "{\"use_karras_sigmas\": true}",
                                "scheduler",
                                "dpmpp_2m"),
                        row("clip_skip", 4, "eta", 0.0, "seed", 0L))) {
            ValidationResult v = RowValidator.validate(r, D);
            assertTrue(v.isValid(), () -> v.toString());
        }
    }

    @Test
    void longValuesAreTruncatedInMessages() {
        String longPrompt = "x".repeat(20_000);
        PromptRow r = row("prompt", longPrompt + "\0");
        String m = ((Invalid) RowValidator.validate(r, D)).message();
        assertTrue(m.length() < 300, m);
        assertTrue(m.contains("(20001 characters)"), m);
        // A 20,000-character prompt alone is valid (the tokenizer truncates, as diffusers does).
        assertTrue(RowValidator.validate(row("prompt", longPrompt), D).isValid());
    }

    @Test
    void reportsEveryProblemOfARow() {
        Invalid r =
                (Invalid) RowValidator.validate(row("steps", 0, "width", 63, "eta", Double.NaN), D);
        assertEquals(
                List.of("steps", "width", "eta"),
                r.problems().stream().map(ValidationResult.Problem::column).toList());
    }

    @Test
    void unknownSchedulerSkipsConfigKeyCheck() {
        Invalid r =
                (Invalid)
                        RowValidator.validate(
                                row("scheduler", "nope", "scheduler_config", "{\"foo\":1}"), D);
        assertEquals(1, r.problems().size());
    }

    @Test
    void neverThrowsOnOddInput() {
        RequestDefaults throwing = D.withSchedulerConfigCheck((s, o) -> Optional.of("rejected"));
        Object[] odd = {
            null,
            "",
            " ",
            "1e400",
            "-0",
            Double.POSITIVE_INFINITY,
            Long.MAX_VALUE,
            List.of(1),
            new Object()
        };
        for (String col :
                List.of(
                        "prompt",
                        "negative_prompt",
                        "seed",
                        "steps",
                        "guidance_scale",
                        "scheduler",
                        "scheduler_config",
                        "width",
                        "height",
                        "eta",
                        "clip_skip")) {
            for (Object v : odd) {
                RowValidator.validate(row(col, v), throwing);
            }
        }
    }
}
