package sdbatch.pipeline.tokenizer;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * The BPE model of a tokenizer folder: the vocabulary (token to id) and the merges in rank order,
 * from {@code tokenizer.json}'s {@code model} when the folder has that file (transformers 5 prefers
 * it), else from {@code vocab.json} and {@code merges.txt} (tokenizers' {@code BPE::from_file}).
 * The special and added tokens on top of it are {@link TokenizerFolder}'s. Every failure names the
 * file.
 *
 * @param mergesSource the file the merges came from, for messages
 */
record BpeModelFiles(Map<String, Integer> vocab, List<String[]> merges, String mergesSource) {
    static final String VOCAB_FILE = "vocab.json";
    static final String MERGES_FILE = "merges.txt";

    /**
     * Reads the model of the tokenizer folder {@code dir}.
     *
     * @param tokenizer the folder's {@code tokenizer.json}, or null where it has none
     */
    static BpeModelFiles read(Path dir, JsonObject tokenizer) {
        if (tokenizer != null) {
            Path tokenizerJson = dir.resolve(TokenizerFolder.TOKENIZER_FILE);
            JsonObject model = tokenizer.getAsJsonObject("model");
            if (model == null) {
                throw new ModelLoadException(tokenizerJson + " has no \"model\" object");
            }
            JsonElement type = model.get("type");
            if (type != null && !"BPE".equals(type.getAsString())) {
                throw new ModelLoadException(
                        tokenizerJson
                                + ": model type is "
                                + type
                                + ", but CLIPTokenizer needs a BPE model");
            }
            return new BpeModelFiles(
                    parseVocabObject(model.get("vocab"), tokenizerJson, "model.vocab"),
                    parseMergesArray(model.get("merges"), tokenizerJson),
                    tokenizerJson.toString());
        }
        Path vocabFile = dir.resolve(VOCAB_FILE);
        Path mergesFile = dir.resolve(MERGES_FILE);
        if (!Files.isRegularFile(vocabFile) || !Files.isRegularFile(mergesFile)) {
            throw new ModelLoadException(
                    "tokenizer folder "
                            + dir
                            + " has neither "
                            + TokenizerFolder.TOKENIZER_FILE
                            + " nor both "
                            + VOCAB_FILE
                            + " and "
                            + MERGES_FILE
                            + " (missing: "
                            + (Files.isRegularFile(vocabFile) ? "" : VOCAB_FILE + " ")
                            + (Files.isRegularFile(mergesFile) ? "" : MERGES_FILE)
                            + ")");
        }
        return new BpeModelFiles(
                readVocabFile(vocabFile), readMergesFile(mergesFile), mergesFile.toString());
    }

    static int parseId(String text, Path source, String where) {
        try {
            int id = Integer.parseInt(text.trim());
            if (id >= 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // fall through to the error below
        }
        throw new ModelLoadException(
                source + ": id '" + text + "' of " + where + " is not a non-negative integer");
    }

    /** Streams vocab.json (a 1 MB object of token -> id) without building a JSON tree. */
    private static Map<String, Integer> readVocabFile(Path p) {
        try (JsonReader r = new JsonReader(Files.newBufferedReader(p, StandardCharsets.UTF_8))) {
            Map<String, Integer> vocab = new HashMap<>(1 << 17);
            if (r.peek() != JsonToken.BEGIN_OBJECT) {
                throw new ModelLoadException(p + " is not a JSON object of token -> id");
            }
            r.beginObject();
            while (r.hasNext()) {
                String token = r.nextName();
                if (r.peek() != JsonToken.NUMBER) {
                    throw new ModelLoadException(
                            p + ": id of token '" + token + "' is not a number");
                }
                vocab.put(token, parseId(r.nextString(), p, "token '" + token + "'"));
            }
            r.endObject();
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new ModelLoadException(p + " has data after the vocabulary object");
            }
            return checkVocab(vocab, p);
        } catch (IOException | IllegalStateException | JsonParseException e) {
            throw new ModelLoadException(p + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static Map<String, Integer> parseVocabObject(
            JsonElement element, Path source, String where) {
        if (!(element instanceof JsonObject object)) {
            throw new ModelLoadException(
                    source + ": " + where + " is not an object of token -> id");
        }
        Map<String, Integer> vocab = new HashMap<>(object.size() * 2);
        for (Map.Entry<String, JsonElement> e : object.entrySet()) {
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
                throw new ModelLoadException(
                        source + ": id of token '" + e.getKey() + "' is not a number");
            }
            vocab.put(e.getKey(), parseId(v.getAsString(), source, "token '" + e.getKey() + "'"));
        }
        return checkVocab(vocab, source);
    }

    private static Map<String, Integer> checkVocab(Map<String, Integer> vocab, Path source) {
        if (vocab.isEmpty()) {
            throw new ModelLoadException(source + ": the vocabulary is empty");
        }
        return vocab;
    }

    /**
     * merges.txt: an optional {@code #version} line, then one merge per line, two symbols separated
     * by one space (tokenizers' {@code BPE::read_file}; transformers 5 loads the file with it).
     */
    private static List<String[]> readMergesFile(Path p) {
        List<String> lines;
        try {
            lines = Files.readAllLines(p, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new ModelLoadException(p + " is not valid UTF-8", e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + p + ": " + e.getMessage(), e);
        }
        List<String[]> merges = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.startsWith("#version")) {
                continue;
            }
            merges.add(splitMerge(line, p, "line " + (i + 1)));
        }
        return merges;
    }

    private static List<String[]> parseMergesArray(JsonElement element, Path source) {
        if (!(element instanceof JsonArray array)) {
            throw new ModelLoadException(source + ": model.merges is not an array");
        }
        List<String[]> merges = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonElement e = array.get(i);
            String where = "model.merges[" + i + "]";
            if (e.isJsonPrimitive()) {
                merges.add(splitMerge(e.getAsString(), source, where));
            } else if (e instanceof JsonArray pair
                    && pair.size() == 2
                    && pair.get(0).isJsonPrimitive()
                    && pair.get(1).isJsonPrimitive()) {
                merges.add(new String[] {pair.get(0).getAsString(), pair.get(1).getAsString()});
            } else {
                throw new ModelLoadException(
                        source + ": " + where + " " + e + " is not \"a b\" or [\"a\", \"b\"]");
            }
        }
        return merges;
    }

    private static String[] splitMerge(String line, Path source, String where) {
        String[] parts = line.split(" ", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new ModelLoadException(
                    source
                            + ": "
                            + where
                            + " '"
                            + line
                            + "' is not two symbols separated by a space");
        }
        return parts;
    }
}
