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
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
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
        assertEquals(
                0,
                run(
                        out,
                        "tokenize",
                        "--model",
                        model.toString(),
                        "--json",
                        "--file",
                        prompts.toString(),
                        "snow"));
        String[] lines = out.toString(StandardCharsets.UTF_8).split("\n");
        CLIPTokenizer tok = CLIPTokenizer.load(model.resolve("tokenizer"));
        int json = 0;
        for (String line : lines) {
            if (!line.startsWith("{")) {
                continue;
            }
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
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
        assertEquals(0, run(out, "tokenize", "--model", model.toString(), "--json", "a red fox"));
        JsonObject o = null;
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("{")) {
                o = JsonParser.parseString(line).getAsJsonObject();
            }
        }
        long[] ids1 = first.encode("a red fox").inputIds();
        long[] ids2 = second.encode("a red fox").inputIds();
        assertEquals(ids1[76], o.getAsJsonArray("input_ids").get(76).getAsLong());
        JsonObject two = o.getAsJsonObject("tokenizer_2");
        assertEquals(77, two.getAsJsonArray("input_ids").size());
        assertEquals(ids2[76], two.getAsJsonArray("input_ids").get(76).getAsLong());
        assertEquals(second.padTokenId(), two.getAsJsonArray("input_ids").get(76).getAsLong());
        assertEquals(second.encode("a red fox").length(), two.get("length").getAsInt());
        out.reset();
        assertEquals(0, run(out, "tokenize", "--model", model.toString(), "a red fox"));
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
                run(
                        out,
                        "tokenize",
                        "--model",
                        model.toString(),
                        "--embeddings",
                        golden.resolve("embeddings").toString(),
                        "--json",
                        "a cat, tinystyle"),
                out.toString(StandardCharsets.UTF_8));
        JsonObject o = null;
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith("{")) {
                o = JsonParser.parseString(line).getAsJsonObject();
            }
        }
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
        assertEquals(
                2,
                run(
                        out,
                        "tokenize",
                        "--model",
                        model.toString(),
                        "--embeddings",
                        bad.toString(),
                        "x"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("style.pt"), out.toString());
    }

    @Test
    void badModelFolderExitsTwo() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(2, run(out, "tokenize", "--model", dir.resolve("missing").toString(), "x"));
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
                "a", "", 1, steps, g, scheduler, "{}", 64, 64, 0, 0, 0, "row 0", 0, null);
    }
}
