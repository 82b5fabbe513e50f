package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.schemas.util.Hashes;

/**
 * The bad-input table of issue 5 on the TinyModels SD1 model with 2 steps: the job ends with exit
 * 3, every input row has exactly one metadata row, each invalid row's error names its column, and
 * the good rows' images are there. Two identical rows share one image id and one generation; both
 * rows are {@code ok}, the second with {@code duplicate_of} naming the first.
 */
class BadInputTableTest extends SharedSparkSession {
    @TempDir Path dir;

    /** id → (row fields, expected error column or null for ok). */
    private final Map<String, String> expected = new LinkedHashMap<>();

    private final List<String> lines = new ArrayList<>();

    private void row(String id, String column, Consumer<JsonObject> fields) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("prompt", "a red fox in the snow");
        fields.accept(o);
        lines.add(new Gson().toJson(o));
        expected.put(id, column);
    }

    @Test
    void everyRowIsAccountedForExactlyOnce() throws Exception {
        row("good", null, o -> o.addProperty("seed", 1));
        row("null-prompt", "prompt", o -> o.add("prompt", com.google.gson.JsonNull.INSTANCE));
        row("empty-prompt", null, o -> o.addProperty("prompt", ""));
        row("long-prompt", null, o -> o.addProperty("prompt", "fox ".repeat(5000)));
        row("emoji-rtl", null, o -> o.addProperty("prompt", "🦊🔥 ثعلب أحمر في الثلج שועל"));
        row("steps-0", "steps", o -> o.addProperty("steps", 0));
        row("steps-100000", "steps", o -> o.addProperty("steps", 100000));
        row("guidance-nan", "guidance_scale", o -> o.addProperty("guidance_scale", "NaN"));
        row("guidance-negative", "guidance_scale", o -> o.addProperty("guidance_scale", -1.5));
        row("width-63", "width", o -> o.addProperty("width", 63));
        row("height-0", "height", o -> o.addProperty("height", 0));
        row(
                "huge",
                "width x height",
                o -> {
                    o.addProperty("width", 65536);
                    o.addProperty("height", 65536);
                });
        row("unknown-scheduler", "scheduler", o -> o.addProperty("scheduler", "warp_drive"));
        row(
                "bad-config-json",
                "scheduler_config",
                o -> o.addProperty("scheduler_config", "{not json"));
        row(
                "bad-config-key",
                "scheduler_config",
                o -> o.addProperty("scheduler_config", "{\"no_such_key\": 1}"));
        row("clip-skip-too-large", "clip_skip", o -> o.addProperty("clip_skip", 40));
        row("duplicate-a", null, o -> o.addProperty("seed", 5));
        row("duplicate-b", null, o -> o.addProperty("seed", 5));
        row("seed-wrong-type", "seed", o -> o.addProperty("seed", "abc"));
        row("steps-wrong-type", "steps", o -> o.addProperty("steps", "many"));
        row("width-fraction", "width", o -> o.addProperty("width", 12.5));

        Path model = TinyModels.write(dir.resolve("tiny"), TinyModels.Variant.SD1, 0);
        Path input = dir.resolve("bad.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);
        Path out = dir.resolve("out");
        GenerateArgs.CliRun job =
                GenerateArgs.run(GenerateArgs.twoSteps(input, out, model, "--batch-size", "4"));
        String logText = job.text();
        assertEquals(3, job.code(), logText);
        assertTrue(logText.contains("prompt texts were longer than"), logText);

        List<Row> rows = metadata(out);
        assertEquals(expected.size(), rows.size(), "one metadata row per input row");
        Map<String, Row> byId = new HashMap<>();
        for (Row r : rows) {
            assertNull(byId.put(r.getAs("id"), r), "row " + r.getAs("id") + " twice");
        }
        assertEquals(
                expected.size(),
                rows.stream().map(r -> r.<Long>getAs("source_row")).distinct().count());
        for (Map.Entry<String, String> e : expected.entrySet()) {
            Row r = byId.get(e.getKey());
            assertNotNull(r, e.getKey());
            String error = r.getAs("error");
            if (e.getValue() == null) {
                assertEquals("ok", r.getAs("status"), e.getKey() + ": " + error);
                byte[] png = Files.readAllBytes(out.resolve(r.<String>getAs("image_path")));
                assertEquals(r.<String>getAs("sha256"), Hashes.sha256Hex(png), e.getKey());
                assertEquals(64, (int) r.<Integer>getAs("width"));
                assertEquals(2, (int) r.<Integer>getAs("steps"));
            } else {
                assertEquals("invalid", r.getAs("status"), e.getKey());
                assertTrue(
                        error.startsWith(e.getValue() + " "),
                        e.getKey() + ": error names " + e.getValue() + ": " + error);
                assertNull(r.getAs("image_id"), e.getKey());
            }
        }
        // The long prompt is cut as diffusers cuts it, and the row says so; the others fit.
        int foxTokens =
                sdbatch.pipeline.tokenizer.CLIPTokenizer.load(model.resolve("tokenizer"))
                        .encodeUnpadded("fox ".repeat(5000))
                        .length;
        assertEquals(
                "prompt is "
                        + foxTokens
                        + " CLIP tokens, longer than the 77 CLIP takes: the last "
                        + (foxTokens - 77)
                        + " are cut (as diffusers does)",
                byId.get("long-prompt").getAs("warning"));
        assertNull(byId.get("good").getAs("warning"));
        assertNull(byId.get("emoji-rtl").getAs("warning"));
        // Duplicates: one image, one generation, both rows ok.
        Row a = byId.get("duplicate-a");
        Row b = byId.get("duplicate-b");
        assertEquals(a.<String>getAs("image_id"), b.<String>getAs("image_id"));
        assertNull(a.getAs("duplicate_of"));
        assertEquals(a.<Long>getAs("source_row"), b.<Long>getAs("duplicate_of"));
        assertEquals("a red fox in the snow", b.getAs("prompt"));
        try (var files = Files.walk(out.resolve("images"))) {
            assertEquals(5, files.filter(Files::isRegularFile).count(), "5 distinct images");
        }
        String runJson = Files.readString(out.resolve("run.json"));
        assertTrue(runJson.contains("\"generated\": 5"), runJson);

        // validate says the same without generating: exit 3; the resumed output has it all.
        GenerateArgs.CliRun validate =
                GenerateArgs.run(
                        GenerateArgs.validate(
                                input,
                                "--model",
                                model.toString(),
                                "--steps",
                                "2",
                                "--output",
                                out.toString(),
                                "--resume"));
        String v = validate.text();
        assertEquals(3, validate.code(), v);
        assertTrue(v.contains("rows: 21 (6 valid, 15 invalid)"), v);
        assertTrue(v.contains("images after expansion: 6 (5 distinct"), v);
        assertTrue(v.contains("images to generate: 0"), v);
    }
}
