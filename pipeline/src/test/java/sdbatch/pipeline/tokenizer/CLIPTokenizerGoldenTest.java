package sdbatch.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * Exact ids against the reference data: every case of {@code shared/clip-tokenizer/examples.json}
 * (transformers' CLIPTokenizer on the real SD vocabulary, SD 1.x and SD 2.x folder conventions),
 * the {@code text/input_ids} that diffusers fed the two golden tiny models, and the same examples
 * through a transformers 5 style {@code tokenizer.json}.
 */
class CLIPTokenizerGoldenTest {
    @TempDir static Path temp;

    /** The examples' two conventions: SD 1.x pads with {@code <|endoftext|>}, SD 2.x with "!". */
    static final Map<String, String> PAD_TOKENS = Map.of("sd1", "<|endoftext|>", "sd2", "!");

    private static JsonObject readJson(Path p) throws IOException {
        try (Reader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            return JsonParser.parseReader(r).getAsJsonObject();
        }
    }

    static JsonArray cases() throws IOException {
        return readJson(SharedData.clipTokenizer().resolve("examples.json"))
                .getAsJsonArray("cases");
    }

    /**
     * A tokenizer folder for one convention: a temporary copy of the shared vocab.json and
     * merges.txt and the tokenizer_config.json diffusers folders carry, with that pad token.
     */
    static Path conventionFolder(String convention, boolean tokenizerJson, boolean pairMerges)
            throws IOException {
        Path shared = SharedData.clipTokenizer();
        Path dir =
                Files.createDirectories(
                        temp.resolve(
                                convention
                                        + (tokenizerJson ? "-json" : "-files")
                                        + (pairMerges ? "-pairs" : "")));
        if (tokenizerJson) {
            writeTokenizerJson(shared, dir.resolve("tokenizer.json"), pairMerges);
        } else {
            for (String name : List.of("vocab.json", "merges.txt")) {
                Path copy = dir.resolve(name);
                if (!Files.exists(copy)) {
                    Files.copy(shared.resolve(name), copy);
                }
            }
        }
        JsonObject config = new JsonObject();
        config.addProperty("model_max_length", 77);
        config.addProperty("pad_token", PAD_TOKENS.get(convention));
        config.addProperty("tokenizer_class", "CLIPTokenizer");
        Files.writeString(dir.resolve("tokenizer_config.json"), config.toString());
        return dir;
    }

    /**
     * Writes what transformers 5 saves as tokenizer.json for CLIP (tokenizers' BPE serialization:
     * vocab object, merges as {@code [a, b]} pairs or as {@code "a b"} strings, added_tokens).
     */
    static void writeTokenizerJson(Path shared, Path out, boolean pairMerges) throws IOException {
        JsonObject vocab = readJson(shared.resolve("vocab.json"));
        JsonArray merges = new JsonArray();
        for (String line :
                Files.readAllLines(shared.resolve("merges.txt"), StandardCharsets.UTF_8)) {
            if (line.startsWith("#version")) {
                continue;
            }
            if (pairMerges) {
                JsonArray pair = new JsonArray();
                for (String part : line.split(" ")) {
                    pair.add(part);
                }
                merges.add(pair);
            } else {
                merges.add(line);
            }
        }
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", null);
        model.addProperty("unk_token", "<|endoftext|>");
        model.addProperty("continuing_subword_prefix", "");
        model.addProperty("end_of_word_suffix", "</w>");
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        model.add("vocab", vocab);
        model.add("merges", merges);
        JsonArray added = new JsonArray();
        for (String special : List.of("<|startoftext|>", "<|endoftext|>")) {
            JsonObject t = new JsonObject();
            t.addProperty("id", vocab.get(special).getAsInt());
            t.addProperty("content", special);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", true);
            t.addProperty("special", true);
            added.add(t);
        }
        JsonObject root = new JsonObject();
        root.addProperty("version", "1.0");
        root.add("truncation", null);
        root.add("padding", null);
        root.add("added_tokens", added);
        JsonObject post = new JsonObject();
        post.addProperty("type", "RobertaProcessing");
        post.add("sep", pair("<|endoftext|>", vocab.get("<|endoftext|>").getAsInt()));
        post.add("cls", pair("<|startoftext|>", vocab.get("<|startoftext|>").getAsInt()));
        post.addProperty("trim_offsets", false);
        post.addProperty("add_prefix_space", false);
        root.add("post_processor", post);
        root.add("model", model);
        try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
            new Gson().toJson(root, w);
        }
    }

    private static JsonArray pair(String token, int id) {
        JsonArray a = new JsonArray();
        a.add(token);
        a.add(id);
        return a;
    }

    static long[] longs(JsonElement array) {
        JsonArray a = array.getAsJsonArray();
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsLong();
        }
        return out;
    }

    static void checkCase(CLIPTokenizer tokenizer, JsonObject c, String convention) {
        String text = c.get("text").getAsString();
        long[] unpadded = longs(c.get("ids_" + convention));
        long[] padded = longs(c.get("padded_" + convention));
        CLIPTokenizer.Encoding e = tokenizer.encode(text);
        assertArrayEquals(padded, e.inputIds(), "padded ids");
        assertArrayEquals(
                unpadded,
                Arrays.stream(tokenizer.encodeUnpadded(text)).asLongStream().toArray(),
                "ids without truncation or padding");
        assertEquals(c.get("truncated_" + convention).getAsBoolean(), e.truncated(), "truncated");
        assertEquals(Math.max(0, unpadded.length - 77), e.truncatedTokens(), "truncatedTokens");
        assertEquals(Math.min(unpadded.length, 77), e.length(), "length");
        if (convention.equals("sd1")) {
            List<String> tokens = new ArrayList<>();
            c.getAsJsonArray("tokens").forEach(t -> tokens.add(t.getAsString()));
            assertEquals(tokens, tokenizer.tokenize(text), "BPE tokens");
        }
    }

    private static Stream<DynamicTest> examples(boolean tokenizerJson, boolean pairMerges)
            throws IOException {
        JsonArray cases = cases();
        List<DynamicTest> tests = new ArrayList<>();
        for (String convention : List.of("sd1", "sd2")) {
            CLIPTokenizer tokenizer =
                    CLIPTokenizer.load(conventionFolder(convention, tokenizerJson, pairMerges));
            assertEquals(77, tokenizer.maxLength());
            for (JsonElement e : cases) {
                JsonObject c = e.getAsJsonObject();
                tests.add(
                        dynamicTest(
                                convention + ": " + c.get("name").getAsString(),
                                () -> checkCase(tokenizer, c, convention)));
            }
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> goldenExamplesFromVocabAndMerges() throws IOException {
        return examples(false, false);
    }

    @TestFactory
    Stream<DynamicTest> goldenExamplesFromTokenizerJsonPairMerges() throws IOException {
        return examples(true, true);
    }

    @TestFactory
    Stream<DynamicTest> goldenExamplesFromTokenizerJsonStringMerges() throws IOException {
        return examples(true, false);
    }

    @TestFactory
    Stream<DynamicTest> goldenComponentInputIds() throws IOException {
        Path golden = SharedData.golden();
        JsonObject components =
                readJson(golden.resolve("manifest.json")).getAsJsonObject("components");
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : List.of("tiny-sd1", "tiny-sd2v")) {
            List<String> prompts = new ArrayList<>();
            for (JsonElement c : components.getAsJsonArray(model)) {
                if (c.getAsJsonObject().get("case").getAsString().equals("text")) {
                    c.getAsJsonObject()
                            .getAsJsonArray("prompts")
                            .forEach(p -> prompts.add(p.getAsString()));
                }
            }
            assertTrue(!prompts.isEmpty(), "manifest lists no text prompts for " + model);
            long[] expected;
            try (SafetensorsFile f =
                    SafetensorsFile.open(golden.resolve("components-" + model + ".safetensors"))) {
                expected = f.readLongs("text/input_ids");
            }
            CLIPTokenizer tokenizer =
                    CLIPTokenizer.load(golden.resolve(model).resolve("tokenizer"));
            int width = tokenizer.maxLength();
            assertEquals(prompts.size() * width, expected.length, "text/input_ids size");
            for (int i = 0; i < prompts.size(); i++) {
                String prompt = prompts.get(i);
                long[] row = Arrays.copyOfRange(expected, i * width, (i + 1) * width);
                tests.add(
                        dynamicTest(
                                model + "[" + i + "]: " + prompt,
                                () -> assertArrayEquals(row, tokenizer.encode(prompt).inputIds())));
            }
            tests.add(
                    dynamicTest(
                            model + ": batchInputIds",
                            () -> assertArrayEquals(expected, tokenizer.batchInputIds(prompts))));
        }
        return tests.stream();
    }
}
