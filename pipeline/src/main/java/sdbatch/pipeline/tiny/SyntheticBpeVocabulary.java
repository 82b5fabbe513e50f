package sdbatch.pipeline.tiny;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small byte-level BPE vocabulary in CLIP's layout, trained here on a built-in list of prompt
 * words, so that tiny models carry a real (if small) tokenizer without shipping CLIP's 49408
 * entries.
 *
 * <p>Layout as in CLIP's {@code vocab.json}: the 256 byte symbols of GPT-2's {@code
 * bytes_to_unicode}, the same 256 with the end-of-word marker {@code </w>}, one entry per merge in
 * merge order, then {@code <|startoftext|>} and {@code <|endoftext|>}. Any text tokenizes: bytes
 * not covered by a merge fall back to single-byte symbols.
 */
public final class SyntheticBpeVocabulary {
    static final String BOS = "<|startoftext|>";
    static final String EOS = "<|endoftext|>";

    private static final String CORPUS =
            "a photo of an astronaut riding a horse on the moon highly detailed oil painting of a"
                    + " cat portrait of a woman landscape with mountains and a lake at sunset city"
                    + " street at night in the rain forest river waterfall castle on a hill dragon"
                    + " flying over the sea red blue green yellow black white golden light soft"
                    + " shadows cinematic lighting studio photograph digital art watercolor sketch"
                    + " beautiful dramatic sky clouds snow winter summer flowers garden house"
                    + " the the the a a a of of of and and in on with at";

    private final List<String> merges;
    private final Map<String, Integer> vocab;

    private SyntheticBpeVocabulary(List<String> merges, Map<String, Integer> vocab) {
        this.merges = merges;
        this.vocab = vocab;
    }

    /** Trains {@code maxMerges} merges (fewer if pairs run out) on the built-in corpus. */
    public static SyntheticBpeVocabulary train(int maxMerges) {
        ByteSymbols table = bytesToUnicode();
        String[] byteSymbols = table.byByte();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : table.inVocabOrder()) {
            vocab.put(s, vocab.size());
        }
        for (String s : table.inVocabOrder()) {
            vocab.put(s + "</w>", vocab.size());
        }
        // Word frequencies; TreeMap for a deterministic iteration order.
        Map<String, Integer> wordFreq = new TreeMap<>();
        for (String w : CORPUS.split(" ")) {
            wordFreq.merge(w, 1, Integer::sum);
        }
        Map<List<String>, Integer> words = new LinkedHashMap<>();
        for (var e : wordFreq.entrySet()) {
            List<String> symbols = new ArrayList<>();
            byte[] bytes = e.getKey().getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i++) {
                String s = byteSymbols[bytes[i] & 0xFF];
                symbols.add(i == bytes.length - 1 ? s + "</w>" : s);
            }
            words.put(symbols, e.getValue());
        }
        List<String> merges = new ArrayList<>();
        while (merges.size() < maxMerges) {
            Map<String, Integer> pairFreq = new TreeMap<>();
            for (var e : words.entrySet()) {
                List<String> s = e.getKey();
                for (int i = 0; i + 1 < s.size(); i++) {
                    pairFreq.merge(s.get(i) + " " + s.get(i + 1), e.getValue(), Integer::sum);
                }
            }
            String best = null;
            int bestFreq = 1;
            for (var e : pairFreq.entrySet()) {
                if (e.getValue() > bestFreq) {
                    best = e.getKey();
                    bestFreq = e.getValue();
                }
            }
            if (best == null) {
                break;
            }
            merges.add(best);
            String[] ab = best.split(" ");
            String merged = ab[0] + ab[1];
            vocab.putIfAbsent(merged, vocab.size());
            Map<List<String>, Integer> next = new LinkedHashMap<>();
            for (var e : words.entrySet()) {
                List<String> s = e.getKey();
                List<String> out = new ArrayList<>();
                for (int i = 0; i < s.size(); i++) {
                    if (i + 1 < s.size() && s.get(i).equals(ab[0]) && s.get(i + 1).equals(ab[1])) {
                        out.add(merged);
                        i++;
                    } else {
                        out.add(s.get(i));
                    }
                }
                next.merge(out, e.getValue(), Integer::sum);
            }
            words = next;
        }
        vocab.put(BOS, vocab.size());
        vocab.put(EOS, vocab.size());
        return new SyntheticBpeVocabulary(List.copyOf(merges), vocab);
    }

    /** The number of entries, the text encoder's {@code vocab_size}. */
    public int size() {
        return vocab.size();
    }

    /** Token id of {@code <|startoftext|>}. */
    public int bosId() {
        return vocab.get(BOS);
    }

    /** Token id of {@code <|endoftext|>}. */
    public int eosId() {
        return vocab.get(EOS);
    }

    /** Id of a token, or -1. */
    public int id(String token) {
        return vocab.getOrDefault(token, -1);
    }

    /**
     * Writes {@code vocab.json}, {@code merges.txt}, {@code special_tokens_map.json} and {@code
     * tokenizer_config.json} as transformers' CLIPTokenizer saves them.
     *
     * @param padToken {@code <|endoftext|>} (SD 1.x) or {@code !} (SD 2.x)
     */
    public void write(Path tokenizerDir, String padToken) throws IOException {
        Files.createDirectories(tokenizerDir);
        var gson = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
        JsonObject v = new JsonObject();
        vocab.forEach(v::addProperty);
        Files.writeString(tokenizerDir.resolve("vocab.json"), gson.toJson(v));
        StringBuilder m = new StringBuilder("#version: 0.2\n");
        merges.forEach(line -> m.append(line).append('\n'));
        Files.writeString(tokenizerDir.resolve("merges.txt"), m.toString());
        JsonObject special = new JsonObject();
        special.addProperty("bos_token", BOS);
        special.addProperty("eos_token", EOS);
        special.addProperty("pad_token", padToken);
        special.addProperty("unk_token", EOS);
        Files.writeString(tokenizerDir.resolve("special_tokens_map.json"), gson.toJson(special));
        JsonObject config = special.deepCopy();
        config.addProperty("add_prefix_space", false);
        config.addProperty("do_lower_case", true);
        config.addProperty("errors", "replace");
        config.addProperty("model_max_length", 77);
        config.addProperty("tokenizer_class", "CLIPTokenizer");
        Files.writeString(tokenizerDir.resolve("tokenizer_config.json"), gson.toJson(config));
    }

    /** GPT-2's reversible byte to printable-unicode table, as CLIP uses it. */
    static ByteSymbols bytesToUnicode() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        Map<Integer, Integer> map = new HashMap<>();
        for (int b : bs) {
            map.put(b, b);
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (!map.containsKey(b)) {
                map.put(b, 256 + n++);
            }
        }
        // CLIP's vocab lists the bytes in bytes_to_unicode's order: printable ranges first.
        List<Integer> order = new ArrayList<>(bs);
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                order.add(b);
            }
        }
        String[] out = new String[256];
        String[] ordered = new String[256];
        for (int b = 0; b < 256; b++) {
            out[b] = new String(Character.toChars(map.get(b)));
        }
        for (int i = 0; i < 256; i++) {
            ordered[i] = out[order.get(i)];
        }
        return new ByteSymbols(out, ordered);
    }

    /** The byte symbols indexed by byte value, and in the order CLIP's vocabulary lists them. */
    record ByteSymbols(String[] byByte, String[] inVocabOrder) {}
}
