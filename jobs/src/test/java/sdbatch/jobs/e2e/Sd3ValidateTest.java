package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.testing.SharedData;

/**
 * {@code sdbatch validate} on an SD3 model (issue 19) plans rows as {@code generate} does: a {@code
 * max_sequence_length} outside 1..512 and a noise-prediction scheduler ({@code ddim}) are invalid
 * rows naming column, value and rule (the schedulers that fit, for the scheduler), in validate's
 * report and in generate's metadata alike (invalid, not failed); the SD3 columns are counted, and
 * the one it ignores (micro-conditioning) is warned about once. On tiny-sd3; nothing is generated.
 */
class Sd3ValidateTest extends SharedSparkSession {
    @TempDir Path dir;

    private static final String MS0 =
            "max_sequence_length 0: must be between 1 and 512 (T5 tokens, diffusers' SD3 rule)";
    private static final String MS513 =
            "max_sequence_length 513: must be between 1 and 512 (T5 tokens, diffusers' SD3 rule)";
    private static final String DDIM =
            "scheduler \"ddim\": is DDIMScheduler, which does not fit an SD3 model (trained for flow"
                    + " matching); the schedulers that fit: default,"
                    + " FlowMatchEulerDiscreteScheduler, flow_match_euler";

    private static String row(String id, Consumer<JsonObject> fields) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("prompt", "a lighthouse at dusk");
        o.addProperty("seed", 1);
        fields.accept(o);
        return o.toString();
    }

    private static final List<String> BAD =
            List.of(
                    row("ms0", o -> o.addProperty("max_sequence_length", 0)),
                    row("ms513", o -> o.addProperty("max_sequence_length", 513)),
                    row("ddim", o -> o.addProperty("scheduler", "ddim")));

    private static final List<String> GOOD =
            List.of(
                    row("plain", o -> {}),
                    row(
                            "t5",
                            o -> {
                                o.addProperty("prompt_2", "a lighthouse, oil painting");
                                o.addProperty("prompt_3", "a tall lighthouse at dusk, waves");
                                o.addProperty("negative_prompt_3", "blurry");
                                o.addProperty("max_sequence_length", 77);
                            }),
                    row("flow", o -> o.addProperty("scheduler", "flow_match_euler")),
                    row("micro", o -> o.addProperty("original_width", 1024)));

    private static Path model() {
        return SharedData.golden().resolve("tiny-sd3");
    }

    @Test
    void validatePlansSd3RowsAsGenerateDoes() throws Exception {
        Path input = dir.resolve("rows.jsonl");
        Files.write(
                input,
                java.util.stream.Stream.concat(GOOD.stream(), BAD.stream()).toList(),
                StandardCharsets.UTF_8);
        GenerateArgs.CliRun v = validate(input);
        assertEquals(3, v.code(), v.text());
        String text = v.text();
        assertTrue(text.contains("rows: 7 (4 valid, 3 invalid)"), text);
        assertTrue(
                text.contains(
                        "rows setting SDXL/SD3 columns or guidance_rescale: prompt_2 1, prompt_3 1,"
                                + " negative_prompt_3 1, max_sequence_length 3, original_width"
                                + " 1\n"),
                text);
        // SD3 uses prompt_2/_3 and max_sequence_length: only the micro-conditioning is ignored.
        assertTrue(text.contains("which does not use original_width (1 row): ignored"), text);
        assertFalse(text.contains("does not use prompt"), text);
        assertFalse(text.contains("max_sequence_length (1"), text);
        assertTrue(text.contains("invalid row 4: " + MS0 + "\n"), text);
        assertTrue(text.contains("invalid row 5: " + MS513 + "\n"), text);
        assertTrue(text.contains("invalid row 6: " + DDIM + "\n"), text);

        // generate makes the same rows invalid (not failed after loading the model).
        Path badInput = dir.resolve("bad.jsonl");
        Files.write(badInput, BAD, StandardCharsets.UTF_8);
        Path out = dir.resolve("out");
        GenerateArgs.CliRun g =
                GenerateArgs.run(
                        GenerateArgs.of(
                                badInput,
                                out,
                                "--model",
                                model().toString(),
                                "--master",
                                "local[1]"));
        assertEquals(3, g.code(), g.text());
        Map<String, String> errors = new HashMap<>();
        for (Row r : metadata(out)) {
            assertEquals("invalid", r.getAs("status"), r.<String>getAs("id"));
            errors.put(r.getAs("id"), r.getAs("error"));
        }
        assertEquals(Map.of("ms0", MS0, "ms513", MS513, "ddim", DDIM), errors);

        // A --schedulers sweep the model cannot run stops the job before it starts.
        GenerateArgs.CliRun sweep = validate(input, "--schedulers", "pndm");
        assertEquals(2, sweep.code(), sweep.text());
        assertTrue(
                sweep.text()
                        .contains("--schedulers \"pndm\": is PNDMScheduler, which does not fit"),
                sweep.text());
    }

    /**
     * {@code sdbatch validate} of {@code input} on tiny-sd3 ({@code local[1]}), more flags after.
     */
    private static GenerateArgs.CliRun validate(Path input, String... more) {
        List<String> flags =
                new ArrayList<>(List.of("--model", model().toString(), "--master", "local[1]"));
        flags.addAll(List.of(more));
        return GenerateArgs.run(GenerateArgs.validate(input, flags.toArray(String[]::new)));
    }
}
