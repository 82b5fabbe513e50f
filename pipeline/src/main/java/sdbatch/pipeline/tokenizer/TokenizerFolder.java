package sdbatch.pipeline.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * Reads a diffusers {@code tokenizer/} folder: its BPE model ({@link BpeModelFiles}: the vocabulary
 * and merges), the special tokens and {@code model_max_length} ({@code special_tokens_map.json}
 * over {@code tokenizer_config.json} over transformers' {@code CLIPTokenizer} defaults), and the
 * added tokens ({@code added_tokens_decoder}, {@code tokenizer.json}'s {@code added_tokens}, {@code
 * added_tokens.json}, additional special tokens). Every failure names the file.
 *
 * <p>The special and added tokens are resolved in one place, as transformers does ({@code
 * PreTrainedTokenizerBase.from_pretrained}): the order in which the files override each other is
 * this constructor's.
 */
final class TokenizerFolder {
    static final String TOKENIZER_FILE = "tokenizer.json";
    static final String CONFIG_FILE = "tokenizer_config.json";
    static final String SPECIAL_TOKENS_FILE = "special_tokens_map.json";
    static final String ADDED_TOKENS_FILE = "added_tokens.json";

    /** transformers' CLIPTokenizer.__init__ defaults. */
    static final String DEFAULT_BOS = "<|startoftext|>";

    static final String DEFAULT_EOS = "<|endoftext|>";
    static final String DEFAULT_UNK = "<|endoftext|>";
    static final String DEFAULT_PAD = "<|endoftext|>";

    /**
     * Used when no {@code model_max_length} is given: CLIP's text encoders in every Stable
     * Diffusion checkpoint have 77 positions, and diffusers pads to {@code
     * tokenizer.model_max_length}.
     */
    static final int DEFAULT_MAX_LENGTH = 77;

    /** transformers writes a huge float (1e30) for "no limit"; such a value is not a length. */
    private static final double MAX_SENSIBLE_LENGTH = 1_000_000;

    final Path dir;
    final Map<String, Integer> vocab;
    final List<String[]> merges;
    final String mergesSource;

    /** Every added token, named special tokens included, ids assigned, in insertion order. */
    final List<AddedToken> addedTokens = new ArrayList<>();

    final String bos;
    final String eos;
    final String unk;
    final String pad;
    final int maxLength;

    private TokenizerFolder(Path dir) {
        this.dir = dir;
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("tokenizer folder " + dir + " does not exist");
        }
        JsonObject config = readOptionalObject(CONFIG_FILE);
        JsonObject specialMap = readOptionalObject(SPECIAL_TOKENS_FILE);
        Path tokenizerJson = dir.resolve(TOKENIZER_FILE);
        JsonObject tokenizer =
                Files.isRegularFile(tokenizerJson) ? readObject(tokenizerJson) : null;
        BpeModelFiles model = BpeModelFiles.read(dir, tokenizer);
        vocab = model.vocab();
        merges = model.merges();
        mergesSource = model.mergesSource();

        // Added tokens that carry their own id and flags come first: transformers 5 keeps them and
        // only adds a named special token whose text is not already among them.
        Map<String, AddedToken> added = new LinkedHashMap<>();
        if (config != null && config.get("added_tokens_decoder") instanceof JsonObject decoder) {
            for (Map.Entry<String, JsonElement> e : decoder.entrySet()) {
                int id =
                        BpeModelFiles.parseId(
                                e.getKey(), dir.resolve(CONFIG_FILE), "added_tokens_decoder");
                AddedToken t = parseToken(e.getValue(), false, dir.resolve(CONFIG_FILE));
                added.putIfAbsent(t.content(), t.withId(id));
            }
        }
        if (tokenizer != null && tokenizer.get("added_tokens") instanceof JsonArray list) {
            for (JsonElement e : list) {
                AddedToken t = parseToken(e, false, tokenizerJson);
                JsonElement id = e.getAsJsonObject().get("id");
                int parsed =
                        id == null
                                ? -1
                                : BpeModelFiles.parseId(id.getAsString(), tokenizerJson, "id");
                added.putIfAbsent(t.content(), t.withId(parsed));
            }
        }
        JsonObject addedFile = readOptionalObject(ADDED_TOKENS_FILE);
        if (addedFile != null) {
            for (Map.Entry<String, JsonElement> e : addedFile.entrySet()) {
                int id =
                        BpeModelFiles.parseId(
                                e.getValue().getAsString(),
                                dir.resolve(ADDED_TOKENS_FILE),
                                e.getKey());
                added.putIfAbsent(
                        e.getKey(),
                        new AddedToken(e.getKey(), id, false, true, false, false, false));
            }
        }

        String padFallback = DEFAULT_PAD;
        if (tokenizer != null
                && tokenizer.get("padding") instanceof JsonObject padding
                && padding.get("pad_token") != null
                && padding.get("pad_token").isJsonPrimitive()) {
            padFallback = padding.get("pad_token").getAsString();
        }
        bos = namedSpecial("bos_token", DEFAULT_BOS, config, specialMap, added);
        eos = namedSpecial("eos_token", DEFAULT_EOS, config, specialMap, added);
        unk = namedSpecial("unk_token", DEFAULT_UNK, config, specialMap, added);
        pad = namedSpecial("pad_token", padFallback, config, specialMap, added);
        for (String key : new String[] {"additional_special_tokens", "extra_special_tokens"}) {
            JsonElement list =
                    specialMap != null && specialMap.has(key) ? specialMap.get(key) : null;
            if (list == null && config != null) {
                list = config.get(key);
            }
            if (list instanceof JsonArray array) {
                for (JsonElement e : array) {
                    AddedToken t = parseToken(e, true, dir.resolve(CONFIG_FILE));
                    added.putIfAbsent(t.content(), t);
                }
            }
        }
        assignIds(added);
        maxLength = parseMaxLength(config);
    }

    static TokenizerFolder read(Path dir) {
        return new TokenizerFolder(dir.toAbsolutePath().normalize());
    }

    private String namedSpecial(
            String key,
            String fallback,
            JsonObject config,
            JsonObject specialMap,
            Map<String, AddedToken> added) {
        JsonElement value = null;
        Path source = dir.resolve(SPECIAL_TOKENS_FILE);
        if (specialMap != null && specialMap.has(key) && !specialMap.get(key).isJsonNull()) {
            value = specialMap.get(key);
        } else if (config != null && config.has(key) && !config.get(key).isJsonNull()) {
            value = config.get(key);
            source = dir.resolve(CONFIG_FILE);
        }
        // transformers 5 (TokenizersBackend._post_init) adds a plain-string special token with
        // normalized=False, so it is matched in the raw prompt; that is why SD 2.x's pad token "!"
        // turns every "!" of a prompt into id 0.
        AddedToken token =
                value == null
                        ? new AddedToken(fallback, -1, true, false, false, false, false)
                        : parseToken(value, true, source);
        added.putIfAbsent(token.content(), token);
        return token.content();
    }

    private void assignIds(Map<String, AddedToken> added) {
        int next = 0;
        for (int id : vocab.values()) {
            next = Math.max(next, id + 1);
        }
        for (AddedToken t : added.values()) {
            if (t.id() >= 0 && !vocab.containsKey(t.content())) {
                next = Math.max(next, t.id() + 1);
            }
        }
        for (AddedToken t : added.values()) {
            // A text that is already a vocabulary entry keeps the vocabulary's id (tokenizers'
            // AddedVocabulary::add_tokens); only a new text gets the given or next free id.
            Integer inVocab = vocab.get(t.content());
            int id = inVocab != null ? inVocab : t.id() >= 0 ? t.id() : next++;
            addedTokens.add(t.withId(id));
        }
    }

    private int parseMaxLength(JsonObject config) {
        if (config == null || !config.has("model_max_length")) {
            return DEFAULT_MAX_LENGTH;
        }
        JsonElement value = config.get("model_max_length");
        double length;
        try {
            length = value.getAsDouble();
        } catch (RuntimeException e) {
            throw new ModelLoadException(
                    dir.resolve(CONFIG_FILE) + ": model_max_length " + value + " is not a number",
                    e);
        }
        if (length > MAX_SENSIBLE_LENGTH) {
            return DEFAULT_MAX_LENGTH;
        }
        if (length < 2 || length != Math.rint(length)) {
            throw new ModelLoadException(
                    dir.resolve(CONFIG_FILE)
                            + ": model_max_length "
                            + value
                            + " must be a whole number >= 2 (room for bos and eos)");
        }
        return (int) length;
    }

    private AddedToken parseToken(JsonElement value, boolean special, Path source) {
        if (value.isJsonPrimitive()) {
            return new AddedToken(value.getAsString(), -1, special, !special, false, false, false);
        }
        if (!value.isJsonObject() || !value.getAsJsonObject().has("content")) {
            throw new ModelLoadException(
                    source
                            + ": token "
                            + value
                            + " is neither a string nor an object with content");
        }
        JsonObject o = value.getAsJsonObject();
        boolean isSpecial = o.has("special") ? o.get("special").getAsBoolean() : special;
        return new AddedToken(
                o.get("content").getAsString(),
                -1,
                isSpecial || special,
                o.has("normalized") ? o.get("normalized").getAsBoolean() : !isSpecial,
                flag(o, "lstrip"),
                flag(o, "rstrip"),
                flag(o, "single_word"));
    }

    private static boolean flag(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() && o.get(key).getAsBoolean();
    }

    private JsonObject readOptionalObject(String name) {
        Path p = dir.resolve(name);
        return Files.isRegularFile(p) ? readObject(p) : null;
    }

    static JsonObject readObject(Path p) {
        try (Reader r = Files.newBufferedReader(p, StandardCharsets.UTF_8)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) {
                throw new ModelLoadException(p + " is not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new ModelLoadException(p + " is not valid JSON: " + e.getMessage(), e);
        }
    }
}
