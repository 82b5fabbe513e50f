package sdbatch.pipeline.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * {@link T5Tokenizer} on a hand-written T5-shaped Unigram {@code tokenizer.json} (ids worked out by
 * hand from the vocabulary: Metaspace's "▁" before each word, {@code </s>} appended, truncation
 * keeping {@code </s>} last, right padding with {@code <pad>}), and on SD3's tiny folder. Runs the
 * Hugging Face tokenizers native library from DJL's jar, offline (the build sets {@code
 * ai.djl.offline}); linux-x86_64 CPU.
 */
class T5TokenizerTest {
    @TempDir Path dir;

    private static final String TOKENIZER_JSON =
            """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [
              {"id": 0, "content": "<pad>", "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true},
              {"id": 1, "content": "</s>", "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true},
              {"id": 2, "content": "<unk>", "single_word": false, "lstrip": false,
               "rstrip": false, "normalized": false, "special": true}],
             "normalizer": null,
             "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581",
               "prepend_scheme": "always", "split": true},
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"Sequence": {"id": "A", "type_id": 0}},
                          {"SpecialToken": {"id": "</s>", "type_id": 0}}],
               "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "</s>", "type_id": 0}},
                        {"Sequence": {"id": "B", "type_id": 0}},
                        {"SpecialToken": {"id": "</s>", "type_id": 0}}],
               "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
             "decoder": null,
             "model": {"type": "Unigram", "unk_id": 2, "byte_fallback": false, "vocab": [
               ["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["\u2581", -3.0],
               ["\u2581a", -2.0], ["\u2581cat", -2.0], ["\u2581dog", -2.0],
               ["\u2581ca", -5.0], ["t", -5.0]]}}
            """;

    private T5Tokenizer tiny() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), TOKENIZER_JSON);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"pad_token\": \"<pad>\"}");
        return T5Tokenizer.load(dir);
    }

    @Test
    void appendsEosAndPadsOnTheRight() throws IOException {
        try (T5Tokenizer t = tiny()) {
            T5Tokenizer.Encoding e = t.encode("a cat", 6);
            assertArrayEquals(new long[] {4, 5, 1, 0, 0, 0}, e.inputIds());
            assertEquals(0, e.truncatedTokens());
            assertEquals(List.of("\u2581a", "\u2581cat", "</s>"), t.tokenize("a cat"));
        }
    }

    @Test
    void truncationKeepsEosLastAndCountsWhatWasCut() throws IOException {
        try (T5Tokenizer t = tiny()) {
            // a cat dog a </s> = 5 ids; 3 fit: a cat </s>
            T5Tokenizer.Encoding e = t.encode("a cat dog a", 3);
            assertArrayEquals(new long[] {4, 5, 1}, e.inputIds());
            assertEquals(2, e.truncatedTokens());
            // exactly fitting: nothing cut
            assertEquals(0, t.encode("a cat dog a", 5).truncatedTokens());
        }
    }

    @Test
    void unknownPiecesBecomeUnk() throws IOException {
        try (T5Tokenizer t = tiny()) {
            // "▁cats": ▁cat + s, and s is not in the vocabulary
            assertArrayEquals(new long[] {5, 2, 1}, t.encodeUnpadded("cats"));
        }
    }

    @Test
    void refusesLengthsOutsideDiffusersLimits() throws IOException {
        try (T5Tokenizer t = tiny()) {
            assertThrows(IllegalArgumentException.class, () -> t.encode("a", 0));
            assertThrows(IllegalArgumentException.class, () -> t.encode("a", 513));
        }
    }

    @Test
    void aFolderWithoutTokenizerJsonIsRefusedNamingIt() {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> T5Tokenizer.load(dir));
        assertEquals(true, e.getMessage().contains(dir.toString()), e.getMessage());
    }

    @Test
    void tinySd3TokenizerPadsTo256() {
        Path folder = SharedData.golden().resolve("tiny-sd3").resolve("tokenizer_3");
        try (T5Tokenizer t = T5Tokenizer.load(folder)) {
            long[] ids = t.encode("a photograph of an astronaut riding a horse", 256).inputIds();
            assertEquals(256, ids.length);
            long[] unpadded = t.encodeUnpadded("a photograph of an astronaut riding a horse");
            assertEquals(1, unpadded[unpadded.length - 1], "</s> last");
            for (int i = 0; i < 256; i++) {
                assertEquals(i < unpadded.length ? unpadded[i] : 0, ids[i], "id " + i);
            }
        }
    }
}
