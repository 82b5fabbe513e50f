package sdbatch.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.tokenizer.T5Tokenizer;
import sdbatch.schemas.GenerationRequest;

/** make-tiny-model and tokenize through the command line (no Spark), and pure command helpers. */
class CommandsTest {
    @TempDir Path dir;

    private int run(ByteArrayOutputStream out, String... args) {
        return Cli.standard()
                .run(
                        List.of(args),
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    /** {@code sdbatch tokenize --model MODEL ARGS...} (flags, then prompts). */
    private int tokenize(ByteArrayOutputStream out, Path model, String... args) {
        List<String> all = new ArrayList<>(List.of("tokenize", "--model", model.toString()));
        all.addAll(List.of(args));
        return run(out, all.toArray(String[]::new));
    }

    @Test
    void makeTinyModelThenTokenize() throws Exception {
        Path model = dir.resolve("tiny");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, run(out, "make-tiny-model", "--output", model.toString(), "--seed", "3"));
        assertTrue(Files.isRegularFile(model.resolve("unet/config.json")));
        Path prompts = dir.resolve("p.txt");
        String longPrompt = "fox ".repeat(200);
        Files.writeString(prompts, "a red fox\n" + longPrompt + "\n");
        out.reset();
        assertEquals(0, tokenize(out, model, "--json", "--file", prompts.toString(), "snow"));
        CLIPTokenizer tok = CLIPTokenizer.load(model.resolve("tokenizer"));
        int json = 0;
        for (JsonObject o : jsonLines(out)) {
            String prompt = o.get("prompt").getAsString();
            CLIPTokenizer.Encoding e = tok.encode(prompt);
            assertEquals(77, o.getAsJsonArray("input_ids").size());
            assertEquals(e.inputIds()[1], o.getAsJsonArray("input_ids").get(1).getAsLong());
            assertEquals(e.truncatedTokens(), o.get("truncated_tokens").getAsInt());
            json++;
        }
        assertEquals(3, json);
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("were cut"), "truncation warned");
    }

    @Test
    void makeTinySdxlModelThenTokenizeShowsBothTokenizers() throws Exception {
        Path model = dir.resolve("tiny-sdxl");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(
                0,
                run(out, "make-tiny-model", "--output", model.toString(), "--variant", "sdxl"),
                out.toString(StandardCharsets.UTF_8));
        assertTrue(Files.isRegularFile(model.resolve("text_encoder_2/config.json")));
        CLIPTokenizer first = CLIPTokenizer.load(model.resolve("tokenizer"));
        CLIPTokenizer second = CLIPTokenizer.load(model.resolve("tokenizer_2"));
        // SDXL's two tokenizers pad differently: the end-of-text token and "!".
        assertTrue(first.padTokenId() != second.padTokenId());
        out.reset();
        assertEquals(0, tokenize(out, model, "--json", "a red fox"));
        List<JsonObject> json = jsonLines(out);
        JsonObject o = json.get(json.size() - 1);
        long[] ids1 = first.encode("a red fox").inputIds();
        long[] ids2 = second.encode("a red fox").inputIds();
        assertEquals(ids1[76], o.getAsJsonArray("input_ids").get(76).getAsLong());
        JsonObject two = o.getAsJsonObject("tokenizer_2");
        assertEquals(77, two.getAsJsonArray("input_ids").size());
        assertEquals(ids2[76], two.getAsJsonArray("input_ids").get(76).getAsLong());
        assertEquals(second.padTokenId(), two.getAsJsonArray("input_ids").get(76).getAsLong());
        assertEquals(second.encode("a red fox").length(), two.get("length").getAsInt());
        out.reset();
        assertEquals(0, tokenize(out, model, "a red fox"));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("\ninput_ids: "), text);
        assertTrue(text.contains("\ntokenizer_2.input_ids: "), text);
        assertTrue(text.contains("\ntokenizer_2.truncated_tokens: 0"), text);
    }

    @Test
    void tokenizeWithEmbeddingsShowsTheTriggerExpansion() throws Exception {
        Path golden = sdbatch.pipeline.testing.SharedData.golden();
        Path model = golden.resolve("tiny-sd1");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(
                0,
                tokenize(
                        out,
                        model,
                        "--embeddings",
                        golden.resolve("embeddings").toString(),
                        "--json",
                        "a cat, tinystyle"),
                out.toString(StandardCharsets.UTF_8));
        List<JsonObject> json = jsonLines(out);
        JsonObject o = json.get(json.size() - 1);
        // tinystyle.safetensors holds 2 vectors: tokens tinystyle and tinystyle_1, added after
        // the vocabulary, as diffusers' load_textual_inversion adds them.
        assertEquals("a cat, tinystyle tinystyle_1", o.get("expanded_prompt").getAsString());
        int vocab = CLIPTokenizer.load(model.resolve("tokenizer")).vocabSize();
        var ids = o.getAsJsonArray("input_ids");
        assertEquals(vocab, ids.get(4).getAsLong(), ids.toString());
        assertEquals(vocab + 1, ids.get(5).getAsLong(), ids.toString());

        out.reset();
        Path bad = Files.createDirectories(dir.resolve("emb"));
        Files.write(bad.resolve("style.pt"), new byte[] {(byte) 0x80, 2});
        assertEquals(2, tokenize(out, model, "--embeddings", bad.toString(), "x"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("style.pt"), out.toString());
    }

    @Test
    void tokenizeSd3ShowsBothClipTokenizersAndT5AtItsMaxSequenceLength() throws Exception {
        Path model = sdbatch.pipeline.testing.SharedData.golden().resolve("tiny-sd3");
        String shortPrompt = "a red fox";
        String longPrompt = "a red fox in the snow ".repeat(8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(
                0,
                tokenize(
                        out,
                        model,
                        "--json",
                        "--max-sequence-length",
                        "16",
                        shortPrompt,
                        longPrompt),
                out.toString(StandardCharsets.UTF_8));
        String printed = out.toString(StandardCharsets.UTF_8);
        List<JsonObject> lines = jsonLines(out);
        assertEquals(2, lines.size(), printed);
        CLIPTokenizer second = CLIPTokenizer.load(model.resolve("tokenizer_2"));
        try (T5Tokenizer t5 = T5Tokenizer.load(model.resolve("tokenizer_3"))) {
            for (JsonObject o : lines) {
                String prompt = o.get("prompt").getAsString();
                assertEquals(
                        ids(second.encode(prompt).inputIds()),
                        o.getAsJsonObject("tokenizer_2").getAsJsonArray("input_ids"));
                JsonObject three = o.getAsJsonObject("tokenizer_3");
                T5Tokenizer.Encoding e = t5.encode(prompt, 16);
                assertEquals(16, three.get("max_sequence_length").getAsInt());
                assertEquals(ids(e.inputIds()), three.getAsJsonArray("input_ids"), prompt);
                assertEquals(e.truncatedTokens(), three.get("truncated_tokens").getAsInt());
                int length = three.get("length").getAsInt();
                long[] unpadded = t5.encodeUnpadded(prompt);
                assertEquals(Math.min(unpadded.length, 16), length);
                // </s> (id 1) ends the content, cut or not; then the pad id
                assertEquals(1, three.getAsJsonArray("input_ids").get(length - 1).getAsLong());
                for (int i = length; i < 16; i++) {
                    assertEquals(
                            t5.padTokenId(), three.getAsJsonArray("input_ids").get(i).getAsLong());
                }
            }
            JsonObject cut = lines.get(1).getAsJsonObject("tokenizer_3");
            int longTokens = t5.encodeUnpadded(longPrompt).length;
            assertTrue(longTokens > 16, "the long prompt is " + longTokens + " T5 tokens");
            assertEquals(longTokens - 16, cut.get("truncated_tokens").getAsInt());
            assertEquals(16, cut.get("length").getAsInt());
            assertEquals(
                    0,
                    lines.get(0).getAsJsonObject("tokenizer_3").get("truncated_tokens").getAsInt());
            assertTrue(
                    printed.contains(
                            "warning: "
                                    + (longTokens - 16)
                                    + " T5 tokens beyond max_sequence_length 16 were cut"),
                    printed);

            // Text, at the default 256 (the column's default).
            out.reset();
            assertEquals(0, tokenize(out, model, shortPrompt));
            String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("\ninput_ids: "), text);
            assertTrue(text.contains("\ntokenizer_2.input_ids: "), text);
            assertTrue(text.contains("\ntokenizer_3.max_sequence_length: 256\n"), text);
            assertTrue(text.contains("\ntokenizer_3.truncated_tokens: 0"), text);
            String idsLine =
                    text.lines()
                            .filter(l -> l.startsWith("tokenizer_3.input_ids: "))
                            .findFirst()
                            .orElseThrow();
            long[] expected = t5.encode(shortPrompt, 256).inputIds();
            StringBuilder sb = new StringBuilder("tokenizer_3.input_ids:");
            for (long id : expected) {
                sb.append(' ').append(id);
            }
            assertEquals(sb.toString(), idsLine);
        }

        // The flag is for T5: refused on a model without one, and outside diffusers' 1..512.
        out.reset();
        Path sd1 = dir.resolve("tiny-sd1");
        assertEquals(0, run(out, "make-tiny-model", "--output", sd1.toString()));
        out.reset();
        assertEquals(2, tokenize(out, sd1, "--max-sequence-length", "16", "x"));
        assertTrue(
                out.toString(StandardCharsets.UTF_8).contains("has no tokenizer_3"),
                out.toString());
        out.reset();
        assertEquals(2, tokenize(out, model, "--max-sequence-length", "513", "x"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("1..512"), out.toString());
    }

    /** The JSON objects among the printed lines ({@code tokenize --json}: one a prompt). */
    private static List<JsonObject> jsonLines(ByteArrayOutputStream out) {
        return out.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(line -> line.startsWith("{"))
                .map(line -> JsonParser.parseString(line).getAsJsonObject())
                .toList();
    }

    private static com.google.gson.JsonArray ids(long[] ids) {
        com.google.gson.JsonArray a = new com.google.gson.JsonArray();
        for (long id : ids) {
            a.add(id);
        }
        return a;
    }

    @Test
    void badModelFolderExitsTwo() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(2, tokenize(out, dir.resolve("missing"), "x"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("missing"));
    }

    @Test
    void unetEvaluationsCountGuidanceAndHeun() {
        assertEquals(40, ValidateCommand.unetEvaluations(req("euler", 20, 7.5)));
        assertEquals(20, ValidateCommand.unetEvaluations(req("euler", 20, 1.0)));
        assertEquals(2 * (2 * 20 - 1), ValidateCommand.unetEvaluations(req("heun", 20, 7.5)));
    }

    private static GenerationRequest req(String scheduler, int steps, double g) {
        return new GenerationRequest(
                "a", "", 1, steps, g, scheduler, "{}", 64, 64, 0, 0, 0, "row 0", 0, null, null,
                null, null);
    }
}
