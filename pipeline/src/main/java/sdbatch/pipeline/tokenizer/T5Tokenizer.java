package sdbatch.pipeline.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The T5 tokenizer of Stable Diffusion 3 ({@code tokenizer_3/}), as diffusers calls it in {@code
 * _get_t5_prompt_embeds}: {@code padding="max_length", max_length=max_sequence_length,
 * truncation=True, add_special_tokens=True} — a Unigram model with the folder's normalizer and
 * Metaspace pre-tokenizer, {@code </s>} appended, truncated so that {@code </s>} stays last, padded
 * on the right with {@code <pad>}.
 *
 * <p>Why a library here when the CLIP tokenizer is pure Java: the real T5 {@code tokenizer.json}
 * carries a precompiled SentencePiece normalizer (a serialized double-array trie of NFKC-like
 * rules) besides the Unigram lattice; Hugging Face's own Rust {@code tokenizers}, through DJL's
 * binding ({@code ai.djl.huggingface:tokenizers}, the native library inside the jar, loaded
 * offline), reads every part of the file exactly as transformers does. The native library is
 * unpacked once into DJL's cache folder ({@code DJL_CACHE_DIR}, default {@code ~/.djl.ai}).
 *
 * <p>Thread-safe: the native tokenizers are immutable after construction; one is kept per requested
 * length (diffusers' {@code max_sequence_length}, at most 512).
 */
public final class T5Tokenizer implements AutoCloseable {
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String CONFIG_FILE = "tokenizer_config.json";

    /** transformers' T5Tokenizer default pad token. */
    static final String DEFAULT_PAD = "<pad>";

    private final Path file;
    private final long padId;
    private final HuggingFaceTokenizer untruncated;
    private final Map<Integer, HuggingFaceTokenizer> byLength = new ConcurrentHashMap<>();

    /**
     * One prompt's ids.
     *
     * @param inputIds exactly {@code maxLength} ids: the text's, {@code </s>}, then padding
     * @param truncatedTokens ids of the untruncated encoding that did not fit (0: none)
     */
    public record Encoding(long[] inputIds, int truncatedTokens) {
        public Encoding {
            inputIds = inputIds.clone();
        }

        @Override
        public long[] inputIds() {
            return inputIds.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Encoding e
                    && Arrays.equals(inputIds, e.inputIds)
                    && truncatedTokens == e.truncatedTokens;
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(inputIds) * 31 + truncatedTokens;
        }

        @Override
        public String toString() {
            return "Encoding" + Arrays.toString(inputIds) + " truncated " + truncatedTokens;
        }
    }

    private T5Tokenizer(Path file, long padId) throws IOException {
        this.file = file;
        this.padId = padId;
        this.untruncated = build(file, 0);
    }

    /**
     * Loads {@code <dir>/tokenizer.json} (and the pad token of {@code tokenizer_config.json}).
     *
     * @throws ModelLoadException naming the folder or file, for a folder without {@code
     *     tokenizer.json} (a SentencePiece {@code spiece.model} alone is not read) or a file the
     *     tokenizers library refuses
     */
    public static T5Tokenizer load(Path dir) {
        Path file =
                ModelLoadException.requireFile(
                        dir,
                        TOKENIZER_FILE,
                        "T5 tokenizer folder",
                        "a SentencePiece spiece.model alone is not supported");
        try {
            return new T5Tokenizer(file, padId(dir, file));
        } catch (IOException | RuntimeException e) {
            throw new ModelLoadException(
                    "cannot read the T5 tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /** The pad token's id: {@code tokenizer_config.json}'s {@code pad_token} in the vocabulary. */
    private static long padId(Path dir, Path file) throws IOException {
        String pad = DEFAULT_PAD;
        Path config = dir.resolve(CONFIG_FILE);
        if (Files.isRegularFile(config)) {
            JsonElement p = readObject(config).get("pad_token");
            if (p != null && p.isJsonPrimitive()) {
                pad = p.getAsString();
            } else if (p != null && p.isJsonObject() && p.getAsJsonObject().has("content")) {
                pad = p.getAsJsonObject().get("content").getAsString();
            }
        }
        JsonObject tok = readObject(file);
        if (tok.has("added_tokens") && tok.get("added_tokens").isJsonArray()) {
            for (JsonElement e : tok.getAsJsonArray("added_tokens")) {
                JsonObject o = e.getAsJsonObject();
                if (pad.equals(o.get("content").getAsString())) {
                    return o.get("id").getAsLong();
                }
            }
        }
        JsonObject model = tok.getAsJsonObject("model");
        if (model != null && model.has("vocab") && model.get("vocab").isJsonArray()) {
            var vocab = model.getAsJsonArray("vocab");
            for (int i = 0; i < vocab.size(); i++) {
                if (pad.equals(vocab.get(i).getAsJsonArray().get(0).getAsString())) {
                    return i;
                }
            }
        }
        throw new ModelLoadException(file + ": the pad token " + pad + " is not in the vocabulary");
    }

    private static JsonObject readObject(Path p) throws IOException {
        try (Reader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) {
                throw new ModelLoadException(p + " is not a JSON object");
            }
            return e.getAsJsonObject();
        }
    }

    /** A native tokenizer adding {@code </s>}, truncating to {@code maxLength} (0: never). */
    private static HuggingFaceTokenizer build(Path file, int maxLength) throws IOException {
        HuggingFaceTokenizer.Builder b =
                HuggingFaceTokenizer.builder()
                        .optTokenizerPath(file)
                        .optAddSpecialTokens(true)
                        .optPadding(false);
        if (maxLength > 0) {
            b.optTruncation(true).optMaxLength(maxLength);
        } else {
            b.optTruncation(false);
        }
        return b.build();
    }

    private HuggingFaceTokenizer truncating(int maxLength) {
        return byLength.computeIfAbsent(
                maxLength,
                n -> {
                    try {
                        return build(file, n);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
    }

    /**
     * {@code text} as diffusers' T5 input: {@code maxLength} ids, truncated ({@code </s>} kept
     * last) and padded with the pad id.
     *
     * @throws IllegalArgumentException for a length below 1 or above 512 (diffusers' limit)
     */
    public Encoding encode(String text, int maxLength) {
        if (maxLength < 1 || maxLength > 512) {
            throw new IllegalArgumentException(
                    "max_sequence_length " + maxLength + " must be in [1, 512]");
        }
        long[] ids = truncating(maxLength).encode(text).getIds();
        long[] out = new long[maxLength];
        Arrays.fill(out, padId);
        System.arraycopy(ids, 0, out, 0, Math.min(ids.length, maxLength));
        int full = untruncated.encode(text).getIds().length;
        return new Encoding(out, Math.max(0, full - maxLength));
    }

    /** The ids of {@code text} with {@code </s>}, unpadded and untruncated. */
    public long[] encodeUnpadded(String text) {
        return untruncated.encode(text).getIds();
    }

    /** The pieces of {@code text} with {@code </s>} (the {@code tokenize} command shows them). */
    public List<String> tokenize(String text) {
        return List.of(untruncated.encode(text).getTokens());
    }

    /** The pad token's id. */
    public long padTokenId() {
        return padId;
    }

    @Override
    public void close() {
        untruncated.close();
        byLength.values().forEach(HuggingFaceTokenizer::close);
        byLength.clear();
    }
}
