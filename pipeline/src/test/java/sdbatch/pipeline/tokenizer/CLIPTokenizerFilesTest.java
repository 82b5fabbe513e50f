package sdbatch.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * Loading and the BPE algorithm on a tiny vocabulary built here (no reference data needed):
 * malformed or missing files give a {@link ModelLoadException} naming the file; merges apply by
 * rank; padding, truncation and added tokens follow the folder's config.
 */
class CLIPTokenizerFilesTest {
    @TempDir Path temp;

    /** Merges in rank order; each pair's concatenation becomes a vocabulary entry. */
    static final List<String[]> MERGES =
            List.of(
                    new String[] {"h", "e"},
                    new String[] {"he", "l"},
                    new String[] {"l", "o</w>"},
                    new String[] {"l", "l"});

    static JsonObject tinyVocab() {
        JsonObject vocab = new JsonObject();
        int id = 0;
        for (int b = 0; b < 256; b++) {
            vocab.addProperty(String.valueOf(BytePairEncoding.byteChar(b)), id++);
        }
        for (int b = 0; b < 256; b++) {
            vocab.addProperty(BytePairEncoding.byteChar(b) + "</w>", id++);
        }
        for (String[] m : MERGES) {
            vocab.addProperty(m[0] + m[1], id++);
        }
        vocab.addProperty("<|startoftext|>", id++);
        vocab.addProperty("<|endoftext|>", id);
        return vocab;
    }

    static String tinyMerges() {
        StringBuilder sb = new StringBuilder("#version: 0.2\n");
        for (String[] m : MERGES) {
            sb.append(m[0]).append(' ').append(m[1]).append('\n');
        }
        return sb.toString();
    }

    Path tinyFolder(String name, String config) throws IOException {
        Path dir = Files.createDirectories(temp.resolve(name));
        Files.writeString(dir.resolve("vocab.json"), tinyVocab().toString());
        Files.writeString(dir.resolve("merges.txt"), tinyMerges());
        if (config != null) {
            Files.writeString(dir.resolve("tokenizer_config.json"), config);
        }
        return dir;
    }

    private static int id(String token) {
        return tinyVocab().get(token).getAsInt();
    }

    @Test
    void mergesApplyByRankLowestFirst() throws IOException {
        CLIPTokenizer t = CLIPTokenizer.load(tinyFolder("ok", null));
        // h e l l o</w>: (h,e) rank 0 -> he; (he,l) rank 1 -> hel; then (l,o</w>) rank 2 beats
        // (l,l) rank 3 -> hel lo</w>.
        assertEquals(List.of("hel", "lo</w>"), t.tokenize("hello"));
        // A merge is between exact symbols: (l,l) does not touch l</w>, (h,e) not e</w>.
        assertEquals(List.of("l", "l</w>"), t.tokenize("ll"));
        assertEquals(List.of("ll", "l</w>"), t.tokenize("lll"));
        assertEquals(List.of("h", "e</w>"), t.tokenize("he"));
    }

    @Test
    void noConfigMeansCLIPDefaults() throws IOException {
        CLIPTokenizer t = CLIPTokenizer.load(tinyFolder("defaults", null));
        assertEquals(77, t.maxLength());
        assertEquals(id("<|startoftext|>"), t.bosTokenId());
        assertEquals(id("<|endoftext|>"), t.eosTokenId());
        assertEquals(id("<|endoftext|>"), t.padTokenId());
        assertEquals(id("<|endoftext|>"), t.unkTokenId());
        assertEquals(tinyVocab().size(), t.vocabSize());
    }

    @Test
    void configSetsLengthAndPadAndTruncates() throws IOException {
        CLIPTokenizer t =
                CLIPTokenizer.load(
                        tinyFolder("short", "{\"model_max_length\": 6, \"pad_token\": \"!\"}"));
        assertEquals(6, t.maxLength());
        assertEquals(id("!"), t.padTokenId());
        CLIPTokenizer.Encoding e = t.encode("a b c d e f g");
        assertEquals(3, e.truncatedTokens());
        assertEquals(6, e.length());
        int a = id("a</w>");
        assertArrayEquals(
                new long[] {
                    t.bosTokenId(), a, id("b</w>"), id("c</w>"), id("d</w>"), t.eosTokenId()
                },
                e.inputIds());
        // The pad token "!" is special: matched before BPE, so "x!!" is x</w>, 0-id, 0-id.
        assertEquals(List.of("x</w>", "!", "!"), t.tokenize("x!!"));
        CLIPTokenizer.Encoding one = t.encode("a");
        assertArrayEquals(
                new long[] {t.bosTokenId(), a, t.eosTokenId(), id("!"), id("!"), id("!")},
                one.inputIds());
        assertEquals(3, one.length());
        assertEquals(0, one.truncatedTokens());
    }

    @Test
    void addedTokenFromConfigIsMatchedWhole() throws IOException {
        int newId = tinyVocab().size() + 3;
        String config =
                "{\"added_tokens_decoder\": {\""
                        + newId
                        + "\": {\"content\": \"<cat-toy>\", \"lstrip\": false, \"normalized\": true,"
                        + " \"rstrip\": false, \"single_word\": false, \"special\": false}}}";
        CLIPTokenizer t = CLIPTokenizer.load(tinyFolder("added", config));
        int[] ids = t.encodeUnpadded("a <CAT-TOY> toy");
        assertEquals(newId, ids[2], "normalized added token matched after lower-casing");
        assertEquals("<cat-toy>", t.idToToken(newId));
    }

    @Test
    void missingFolderIsNamed() {
        Path missing = temp.resolve("nope");
        ModelLoadException e =
                assertThrows(ModelLoadException.class, () -> CLIPTokenizer.load(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    @Test
    void missingMergesIsNamed() throws IOException {
        Path dir = tinyFolder("nomerges", null);
        Files.delete(dir.resolve("merges.txt"));
        assertMessage(dir, "merges.txt");
    }

    @Test
    void missingVocabIsNamed() throws IOException {
        Path dir = tinyFolder("novocab", null);
        Files.delete(dir.resolve("vocab.json"));
        assertMessage(dir, "vocab.json");
    }

    @Test
    void truncatedVocabJsonIsNamed() throws IOException {
        Path dir = tinyFolder("badvocab", null);
        String json = Files.readString(dir.resolve("vocab.json"));
        Files.writeString(dir.resolve("vocab.json"), json.substring(0, json.length() / 2));
        assertMessage(dir, "vocab.json");
    }

    @Test
    void nonIntegerIdIsNamed() throws IOException {
        assertBrokenFileIsNamed("textid", "vocab.json", "{\"a\": \"zero\"}", "'a'");
    }

    @Test
    void malformedMergeLineIsNamed() throws IOException {
        assertBrokenFileIsNamed("badmerge", "merges.txt", "#version: 0.2\nh e\nhel\n", "line 3");
    }

    @Test
    void mergeOutsideVocabIsNamed() throws IOException {
        assertBrokenFileIsNamed("unknownmerge", "merges.txt", "#version: 0.2\nh e\nq z\n", "'qz'");
    }

    @Test
    void corruptConfigIsNamed() throws IOException {
        assertMessage(tinyFolder("badconfig", "{\"model_max_length\": "), "tokenizer_config.json");
        assertMessage(
                tinyFolder("tooshort", "{\"model_max_length\": 1}"),
                "tokenizer_config.json",
                "model_max_length");
    }

    @Test
    void tokenizerJsonOfAnotherModelTypeIsRefused() throws IOException {
        Path dir = Files.createDirectories(temp.resolve("wordpiece"));
        JsonObject model = new JsonObject();
        model.addProperty("type", "WordPiece");
        model.add("vocab", tinyVocab());
        JsonObject root = new JsonObject();
        root.add("model", model);
        Files.writeString(dir.resolve("tokenizer.json"), root.toString());
        assertMessage(dir, "tokenizer.json", "BPE");
    }

    @Test
    void corruptTokenizerJsonIsNamed() throws IOException {
        Path dir = Files.createDirectories(temp.resolve("badjson"));
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", ");
        assertMessage(dir, "tokenizer.json");
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("vocab", tinyVocab());
        JsonArray merges = new JsonArray();
        merges.add("h e");
        JsonArray triple = new JsonArray();
        triple.add("he");
        triple.add("l");
        triple.add("x");
        merges.add(triple);
        model.add("merges", merges);
        JsonObject root = new JsonObject();
        root.add("model", model);
        Files.writeString(dir.resolve("tokenizer.json"), root.toString(), StandardCharsets.UTF_8);
        assertMessage(dir, "tokenizer.json", "model.merges[1]");
    }

    @Test
    void tokenizerJsonAloneGivesTheSameIds() throws IOException {
        Path files = tinyFolder("files", null);
        Path json = Files.createDirectories(temp.resolve("json"));
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("vocab", tinyVocab());
        JsonArray merges = new JsonArray();
        for (String[] m : MERGES) {
            JsonArray pair = new JsonArray();
            pair.add(m[0]);
            pair.add(m[1]);
            merges.add(pair);
        }
        model.add("merges", merges);
        JsonObject root = new JsonObject();
        root.add("model", model);
        Files.writeString(json.resolve("tokenizer.json"), root.toString());
        CLIPTokenizer a = CLIPTokenizer.load(files);
        CLIPTokenizer b = CLIPTokenizer.load(json);
        for (String text : List.of("hello world", "", "Hello, HELL!! lll <|endoftext|>")) {
            assertEquals(a.encode(text), b.encode(text), text);
        }
    }

    @Test
    void nullArgumentsAreRejected() throws IOException {
        CLIPTokenizer t = CLIPTokenizer.load(tinyFolder("nulls", null));
        assertThrows(IllegalArgumentException.class, () -> t.encode(null));
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> t.encodeBatch(java.util.Arrays.asList("a", null)));
        assertTrue(e.getMessage().contains("texts[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CLIPTokenizer.load(null));
    }

    /**
     * A tiny folder {@code name} whose {@code file} holds {@code content} fails to load with a
     * message naming the file and {@code detail}.
     */
    private void assertBrokenFileIsNamed(String name, String file, String content, String detail)
            throws IOException {
        Path dir = tinyFolder(name, null);
        Files.writeString(dir.resolve(file), content);
        assertMessage(dir, file, detail);
    }

    private static void assertMessage(Path dir, String... parts) {
        ModelLoadException e =
                assertThrows(ModelLoadException.class, () -> CLIPTokenizer.load(dir));
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "'" + part + "' not in: " + e.getMessage());
        }
    }
}
