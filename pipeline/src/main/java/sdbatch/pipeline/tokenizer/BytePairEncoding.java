package sdbatch.pipeline.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * Byte-level BPE with CLIP's {@code </w>} end-of-word marker: the {@code model} part of the
 * tokenizer (Hugging Face tokenizers' {@code BPE} with {@code end_of_word_suffix="</w>"}, {@code
 * continuing_subword_prefix=""}, no dropout, {@code fuse_unk=false}).
 *
 * <p>Immutable after construction; the word cache is a {@link ConcurrentHashMap}, so one instance
 * serves any number of threads.
 */
final class BytePairEncoding {
    static final String END_OF_WORD = "</w>";

    /** Words longer than this (in chars) are not cached, as in tokenizers' BPE (MAX_LENGTH). */
    private static final int CACHE_MAX_WORD_LENGTH = 256;

    /** The cache stops growing here, so random long prompts cannot exhaust the heap. */
    private static final int CACHE_CAPACITY = 100_000;

    private static final char[] BYTE_TO_CHAR = bytesToUnicode();

    /**
     * Id of each byte's symbol inside a word, and at the end of a word ({@code x</w>}); -1 if
     * absent.
     */
    private final int[] byteIds = new int[256];

    private final int[] byteEndIds = new int[256];

    /** (left id << 32 | right id) -> (rank << 32 | merged id). */
    private final Map<Long, Long> merges;

    private final int unkId;
    private final String unkToken;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param vocab the token -> id map
     * @param mergePairs the merges in rank order, each {@code {left, right}}
     * @param mergesSource the file the merges came from, for error messages
     * @param unkToken the unknown token (used for a byte symbol missing from the vocabulary)
     */
    BytePairEncoding(
            Map<String, Integer> vocab,
            List<String[]> mergePairs,
            String mergesSource,
            String unkToken) {
        for (int b = 0; b < 256; b++) {
            String symbol = String.valueOf(BYTE_TO_CHAR[b]);
            byteIds[b] = vocab.getOrDefault(symbol, -1);
            byteEndIds[b] = vocab.getOrDefault(symbol + END_OF_WORD, -1);
        }
        this.unkToken = unkToken;
        this.unkId = unkToken == null ? -1 : vocab.getOrDefault(unkToken, -1);
        this.merges = new HashMap<>(mergePairs.size() * 2);
        for (int rank = 0; rank < mergePairs.size(); rank++) {
            String[] pair = mergePairs.get(rank);
            int left = requireInVocab(vocab, pair[0], rank, pair, mergesSource);
            int right = requireInVocab(vocab, pair[1], rank, pair, mergesSource);
            int merged = requireInVocab(vocab, pair[0] + pair[1], rank, pair, mergesSource);
            // A repeated pair keeps its last rank, as both transformers and tokenizers build a map.
            merges.put(pairKey(left, right), ((long) rank << 32) | merged);
        }
    }

    private static int requireInVocab(
            Map<String, Integer> vocab, String token, int rank, String[] pair, String source) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new ModelLoadException(
                    source
                            + ": merge "
                            + (rank + 1)
                            + " '"
                            + pair[0]
                            + " "
                            + pair[1]
                            + "' needs token '"
                            + token
                            + "', which is not in the vocabulary");
        }
        return id;
    }

    private static long pairKey(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    /** Appends the ids of one pre-tokenized word (normalized text, not yet byte-mapped). */
    void encodeWord(String word, IntArrayBuilder out) {
        if (word.length() <= CACHE_MAX_WORD_LENGTH) {
            int[] cached = cache.get(word);
            if (cached == null) {
                cached = merge(word.getBytes(StandardCharsets.UTF_8));
                if (cache.size() < CACHE_CAPACITY) {
                    cache.putIfAbsent(word, cached);
                }
            }
            out.addAll(cached);
        } else {
            out.addAll(merge(word.getBytes(StandardCharsets.UTF_8)));
        }
    }

    /**
     * BPE on one word: start from one symbol per UTF-8 byte (the last one carrying {@code </w>}),
     * then apply the lowest-ranked available merge, leftmost first, until none applies.
     */
    // Port of tokenizers models/bpe/word.rs Word::merge_all (priority queue of (rank, position),
    // stale entries skipped), which gives the same result as transformers' slow CLIPTokenizer.bpe.
    private int[] merge(byte[] bytes) {
        int n = bytes.length;
        int[] symbol = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        boolean[] removed = new boolean[n];
        for (int i = 0; i < n; i++) {
            int b = bytes[i] & 0xFF;
            int id = i == n - 1 ? byteEndIds[b] : byteIds[b];
            if (id < 0) {
                if (unkId < 0) {
                    throw new IllegalStateException(
                            "byte symbol '"
                                    + BYTE_TO_CHAR[b]
                                    + (i == n - 1 ? END_OF_WORD : "")
                                    + "' is not in the vocabulary and the unknown token "
                                    + unkToken
                                    + " has no id either");
                }
                id = unkId;
            }
            symbol[i] = id;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Long> queue = new PriorityQueue<>(Math.max(1, n));
        for (int i = 0; i + 1 < n; i++) {
            Long m = merges.get(pairKey(symbol[i], symbol[i + 1]));
            if (m != null) {
                queue.add((m & 0xFFFFFFFF00000000L) | i);
            }
        }
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int pos = (int) top;
            long rank = top >>> 32;
            if (removed[pos] || next[pos] < 0) {
                continue;
            }
            int right = next[pos];
            Long m = merges.get(pairKey(symbol[pos], symbol[right]));
            if (m == null || (m >>> 32) != rank) {
                continue; // stale: one side was merged into something else since it was queued
            }
            symbol[pos] = (int) (long) m;
            removed[right] = true;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
            }
            if (prev[pos] >= 0) {
                Long left = merges.get(pairKey(symbol[prev[pos]], symbol[pos]));
                if (left != null) {
                    queue.add((left & 0xFFFFFFFF00000000L) | prev[pos]);
                }
            }
            if (next[pos] >= 0) {
                Long after = merges.get(pairKey(symbol[pos], symbol[next[pos]]));
                if (after != null) {
                    queue.add((after & 0xFFFFFFFF00000000L) | pos);
                }
            }
        }
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            ids.add(symbol[i]);
        }
        int[] result = new int[ids.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = ids.get(i);
        }
        return result;
    }

    /** The byte-level text of one byte: the char {@code bytes_to_unicode()} maps it to. */
    static char byteChar(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** The byte a byte-level char stands for, or -1 if it is not one of the 256. */
    static int charByte(char c) {
        for (int b = 0; b < 256; b++) {
            if (BYTE_TO_CHAR[b] == c) {
                return b;
            }
        }
        return -1;
    }

    // Port of transformers models/clip/tokenization_clip.py bytes_to_unicode (GPT-2's table):
    // printable Latin-1 bytes map to themselves, the 68 others to U+0100 upwards in byte order,
    // so no byte becomes whitespace or a control char that BPE would choke on.
    private static char[] bytesToUnicode() {
        char[] table = new char[256];
        boolean[] printable = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            printable[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            printable[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            printable[b] = true;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            table[b] = printable[b] ? (char) b : (char) (256 + n++);
        }
        return table;
    }
}
