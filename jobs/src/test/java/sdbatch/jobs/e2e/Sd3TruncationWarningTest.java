package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.T5Tokenizer;
import sdbatch.schemas.util.Hashes;

/**
 * Issue 19's bad input: an SD3 row whose T5 text is longer than its {@code max_sequence_length}
 * (and one whose prompts are longer than CLIP's 77 tokens) is generated, ok, with a {@code warning}
 * naming the column, the token count, the limit and how many tokens were cut, as diffusers warns; a
 * row that fits has none. Through {@code sdbatch generate} on tiny-sd3, 2 steps, 64².
 */
class Sd3TruncationWarningTest extends SharedSparkSession {
    @TempDir Path dir;

    private static final String PROMPT = "a photograph of an astronaut riding a horse";
    private static final String LONG_3 =
            "a photograph of an astronaut riding a white horse across the surface of the moon";
    private static final String SHORT_3 = "a horse";
    private static final int MAX_SEQUENCE_LENGTH = 8;

    private static String row(String id, String prompt, String negative, String prompt3) {
        JsonObject o = new JsonObject();
        o.addProperty("id", id);
        o.addProperty("prompt", prompt);
        if (negative != null) {
            o.addProperty("negative_prompt", negative);
        }
        if (prompt3 != null) {
            o.addProperty("prompt_3", prompt3);
        }
        o.addProperty("seed", 7);
        o.addProperty("max_sequence_length", MAX_SEQUENCE_LENGTH);
        return o.toString();
    }

    private static String t5Cut(String column, int tokens) {
        return column
                + " is "
                + tokens
                + " T5 tokens, longer than max_sequence_length "
                + MAX_SEQUENCE_LENGTH
                + ": the last "
                + (tokens - MAX_SEQUENCE_LENGTH)
                + " are cut (as diffusers does)";
    }

    private static String clipCut(String column, int tokens) {
        return column
                + " is "
                + tokens
                + " CLIP tokens, longer than the 77 CLIP takes: the last "
                + (tokens - 77)
                + " are cut (as diffusers does)";
    }

    @Test
    void aCutPromptIsGeneratedWithAWarningNamingItsColumnAndCount() throws Exception {
        Path model = SharedData.golden().resolve("tiny-sd3");
        String longPrompt = "red fox ".repeat(60);
        String longNegative = "blurry ".repeat(90);
        int long3Tokens;
        int longPromptT5;
        int longNegativeT5;
        try (T5Tokenizer t5 = T5Tokenizer.load(model.resolve("tokenizer_3"))) {
            long3Tokens = t5.encodeUnpadded(LONG_3).length;
            longPromptT5 = t5.encodeUnpadded(longPrompt).length;
            longNegativeT5 = t5.encodeUnpadded(longNegative).length;
            // the premises: the one cut, the other fits, with </s> last
            assertTrue(long3Tokens > MAX_SEQUENCE_LENGTH, "LONG_3 is " + long3Tokens);
            assertTrue(t5.encodeUnpadded(SHORT_3).length <= MAX_SEQUENCE_LENGTH);
            assertTrue(t5.encodeUnpadded(PROMPT).length > MAX_SEQUENCE_LENGTH);
        }
        CLIPTokenizer clip = CLIPTokenizer.load(model.resolve("tokenizer"));
        int longPromptClip = clip.encodeUnpadded(longPrompt).length;
        int longNegativeClip = clip.encodeUnpadded(longNegative).length;
        assertTrue(longPromptClip > 77 && longNegativeClip > 77);
        assertTrue(clip.encodeUnpadded(PROMPT).length <= 77);

        List<String> lines = new ArrayList<>();
        lines.add(row("t5-cut", PROMPT, null, LONG_3));
        lines.add(row("fits", PROMPT, null, SHORT_3));
        lines.add(row("all-cut", longPrompt, longNegative, null));
        Path input = dir.resolve("in.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);
        Path out = dir.resolve("out");
        String logText = generate(model, input, out);
        assertTrue(logText.contains("5 prompt texts were longer than"), logText);
        Map<String, Row> byId = rowsById(out);
        assertEquals(3, byId.size());
        assertEquals(t5Cut("prompt_3", long3Tokens), byId.get("t5-cut").getAs("warning"));
        assertNull(byId.get("fits").getAs("warning"));
        // prompt_2/_3 null: the second CLIP and T5 read prompt (the second CLIP's cut is said
        // once); the negative prompts only because guidance is on; joined with "; "
        assertEquals(
                String.join(
                        "; ",
                        clipCut("prompt", longPromptClip),
                        t5Cut("prompt", longPromptT5),
                        clipCut("negative_prompt", longNegativeClip),
                        t5Cut("negative_prompt", longNegativeT5)),
                byId.get("all-cut").getAs("warning"));

        // --resume generates nothing and keeps each stored image's warning.
        generate(model, input, out, "--resume");
        String runJson = Files.readString(out.resolve("run.json"));
        assertTrue(runJson.contains("\"generated\": 0"), runJson);
        Map<String, Row> again = rowsById(out);
        for (String id : byId.keySet()) {
            assertEquals(
                    byId.get(id).<String>getAs("image_id"), again.get(id).getAs("image_id"), id);
            assertEquals(byId.get(id).<String>getAs("warning"), again.get(id).getAs("warning"), id);
        }
    }

    /** Runs {@code sdbatch generate} (2 steps, 32²); returns its log, after checking exit 0. */
    private static String generate(Path model, Path input, Path out, String... more)
            throws Exception {
        List<String> args =
                GenerateArgs.twoSteps(
                        input, out, model, "--width", "32", "--height", "32", "--batch-size", "3");
        args.addAll(List.of(more));
        GenerateArgs.CliRun run = GenerateArgs.run(args);
        assertEquals(0, run.code(), run.text());
        return run.text();
    }

    /** The metadata rows by id, each ok with its PNG's hash. */
    private Map<String, Row> rowsById(Path out) throws Exception {
        Map<String, Row> byId = metadataById(out);
        for (Row r : byId.values()) {
            assertEquals("ok", r.getAs("status"), String.valueOf((Object) r.getAs("error")));
            byte[] png = Files.readAllBytes(out.resolve(r.<String>getAs("image_path")));
            assertEquals(r.<String>getAs("sha256"), Hashes.sha256Hex(png));
        }
        return byId;
    }
}
