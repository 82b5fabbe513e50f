package sdbatch.pipeline.tokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * Stable Diffusion's CLIP tokenizer: the ids of Hugging Face transformers 5's {@code CLIPTokenizer}
 * as diffusers calls it, {@code tokenizer(prompt, padding="max_length",
 * max_length=tokenizer.model_max_length, truncation=True)}.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #load} reads a diffusers {@code tokenizer/} folder: {@code tokenizer.json} if
 *       present (transformers 5), else {@code vocab.json} + {@code merges.txt}; special tokens and
 *       {@code model_max_length} from {@code special_tokens_map.json} / {@code
 *       tokenizer_config.json}. A missing or corrupt file is a {@link ModelLoadException} naming
 *       it.
 *   <li>{@link #encode} gives exactly {@link #maxLength()} ids: bos, the first {@code maxLength -
 *       2} content ids, eos, then the pad id. The pad token comes from the folder: {@code
 *       <|endoftext|>} (49407) in SD 1.x, {@code !} (0) in SD 2.x. Special tokens are matched in
 *       the prompt before BPE, so in SD 2.x every {@code !} of a prompt is id 0 as well.
 *   <li>The text is normalized as transformers 5 does it (NFC, whitespace runs to one space, lower
 *       case); there is no ftfy or html unescaping any more.
 *   <li>Immutable after loading and thread-safe: concurrent tasks share one instance and its
 *       concurrent word cache.
 * </ul>
 */
public final class CLIPTokenizer {
    private final TokenizerFolder folder;
    private final Path dir;
    private final BytePairEncoding bpe;
    private final List<AddedToken> addedTokens;
    private final Map<String, Integer> addedIds;
    private final boolean hasMultiVectorTokens;
    private final PreTokenizer preTokenizer;
    private final String[] idToToken;
    private final int bosId;
    private final int eosId;
    private final int padId;
    private final int unkId;
    private final int maxLength;
    private final String padToken;

    /**
     * The ids for one prompt.
     *
     * @param inputIds exactly {@code maxLength} ids: bos, content, eos, padding (a copy on access)
     * @param length the number of ids before padding (bos + kept content + eos)
     * @param truncatedTokens how many content tokens did not fit and were dropped (0 if none)
     */
    public record Encoding(long[] inputIds, int length, int truncatedTokens) {
        public Encoding {
            inputIds = inputIds.clone();
        }

        @Override
        public long[] inputIds() {
            return inputIds.clone();
        }

        /** Whether content tokens were dropped to fit {@code maxLength}. */
        public boolean truncated() {
            return truncatedTokens > 0;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Encoding e
                    && Arrays.equals(inputIds, e.inputIds)
                    && length == e.length
                    && truncatedTokens == e.truncatedTokens;
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(inputIds) + length) + truncatedTokens;
        }

        @Override
        public String toString() {
            return "Encoding[inputIds="
                    + Arrays.toString(inputIds)
                    + ", length="
                    + length
                    + ", truncatedTokens="
                    + truncatedTokens
                    + "]";
        }
    }

    private CLIPTokenizer(TokenizerFolder folder) {
        this(
                folder,
                new BytePairEncoding(folder.vocab, folder.merges, folder.mergesSource, folder.unk),
                folder.addedTokens);
    }

    private CLIPTokenizer(TokenizerFolder folder, BytePairEncoding bpe, List<AddedToken> added) {
        this.folder = folder;
        this.dir = folder.dir;
        this.maxLength = folder.maxLength;
        this.bpe = bpe;
        this.addedTokens = List.copyOf(added);
        this.preTokenizer = new PreTokenizer(addedTokens);
        Map<String, Integer> addedIds = new HashMap<>();
        int size = 0;
        for (int id : folder.vocab.values()) {
            size = Math.max(size, id + 1);
        }
        for (AddedToken t : addedTokens) {
            addedIds.put(t.content(), t.id());
            size = Math.max(size, t.id() + 1);
        }
        this.addedIds = Map.copyOf(addedIds);
        this.hasMultiVectorTokens =
                addedIds.keySet().stream().anyMatch(t -> addedIds.containsKey(t + "_1"));
        this.idToToken = new String[size];
        folder.vocab.forEach((token, id) -> idToToken[id] = token);
        addedIds.forEach((token, id) -> idToToken[id] = token);
        this.bosId = addedIds.get(folder.bos);
        this.eosId = addedIds.get(folder.eos);
        this.padId = addedIds.get(folder.pad);
        this.unkId = addedIds.get(folder.unk);
        this.padToken = folder.pad;
    }

    /**
     * Loads the tokenizer of a diffusers {@code tokenizer/} folder.
     *
     * @throws ModelLoadException if the folder or a needed file is missing or corrupt (the message
     *     names the file)
     */
    public static CLIPTokenizer load(Path tokenizerDir) {
        if (tokenizerDir == null) {
            throw new IllegalArgumentException("tokenizerDir is null");
        }
        return new CLIPTokenizer(TokenizerFolder.read(tokenizerDir));
    }

    /**
     * {@code tokenizer(text, padding="max_length", max_length=maxLength(), truncation=True)}: bos,
     * at most {@code maxLength - 2} content ids, eos, then padding to {@link #maxLength()}.
     */
    public Encoding encode(String text) {
        // As tokenizers does it for transformers 5: truncation (longest_first, right side) keeps
        // maxLength minus the 2 ids the RobertaProcessing post-processor adds, then bos + ids +
        // eos, then right padding with the pad id up to maxLength.
        int[] content = contentIds(text);
        int kept = Math.min(content.length, maxLength - 2);
        long[] ids = new long[maxLength];
        ids[0] = bosId;
        for (int i = 0; i < kept; i++) {
            ids[i + 1] = content[i];
        }
        ids[kept + 1] = eosId;
        Arrays.fill(ids, kept + 2, maxLength, padId);
        return new Encoding(ids, kept + 2, content.length - kept);
    }

    /** {@link #encode} for each prompt, in order. */
    public List<Encoding> encodeBatch(List<String> texts) {
        if (texts == null) {
            throw new IllegalArgumentException("texts is null");
        }
        List<Encoding> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (text == null) {
                throw new IllegalArgumentException("texts[" + i + "] is null");
            }
            out.add(encode(text));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The padded ids of every prompt, row-major ({@code texts.size() x maxLength()}), ready to
     * become the text encoder's {@code input_ids} tensor.
     */
    public long[] batchInputIds(List<String> texts) {
        List<Encoding> encodings = encodeBatch(texts);
        long[] out = new long[encodings.size() * maxLength];
        for (int i = 0; i < encodings.size(); i++) {
            System.arraycopy(encodings.get(i).inputIds, 0, out, i * maxLength, maxLength);
        }
        return out;
    }

    /** {@code tokenizer(text).input_ids}: bos, every content id, eos; no truncation, no padding. */
    public int[] encodeUnpadded(String text) {
        int[] content = contentIds(text);
        int[] ids = new int[content.length + 2];
        ids[0] = bosId;
        System.arraycopy(content, 0, ids, 1, content.length);
        ids[ids.length - 1] = eosId;
        return ids;
    }

    /**
     * {@code tokenizer.tokenize(text)}: the content tokens as vocabulary strings (byte-level text,
     * {@code </w>} ending each word), without bos/eos; special tokens in the text appear as
     * themselves.
     */
    public List<String> tokenize(String text) {
        int[] ids = contentIds(text);
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            tokens.add(idToToken[id]);
        }
        return tokens;
    }

    /** The content ids of a prompt (no bos/eos), before truncation. */
    private int[] contentIds(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        IntArrayBuilder out = new IntArrayBuilder(Math.min(text.length(), 1 << 16) / 3 + 8);
        preTokenizer.split(
                text,
                new PreTokenizer.Sink() {
                    @Override
                    public void addedToken(AddedToken token) {
                        out.add(token.id());
                    }

                    @Override
                    public void word(String word) {
                        bpe.encodeWord(word, out);
                    }
                });
        return out.toArray();
    }

    /**
     * Whether {@code token} is a key of transformers' {@code tokenizer.get_vocab()}: a vocabulary
     * entry (byte-level, {@code </w>} ending word-final pieces) or an added token.
     */
    public boolean inVocabulary(String token) {
        return folder.vocab.containsKey(token) || addedIds.containsKey(token);
    }

    /** Whether {@code token} is in transformers' {@code tokenizer.added_tokens_encoder}. */
    public boolean isAddedToken(String token) {
        return addedIds.containsKey(token);
    }

    /**
     * A tokenizer that also knows {@code tokens}, as transformers' {@code
     * tokenizer.add_tokens(tokens)}: each a non-special added token matched in the normalized text
     * ({@code normalized=True}), with the ids {@link #vocabSize()}, {@link #vocabSize()} + 1, ...
     * in order. This tokenizer is unchanged (it is immutable); the new one shares its BPE cache.
     *
     * @throws IllegalArgumentException if a token is empty, repeated, or already in the vocabulary
     */
    public CLIPTokenizer withAddedTokens(List<String> tokens) {
        List<AddedToken> all = new ArrayList<>(addedTokens);
        java.util.Set<String> seen = new java.util.HashSet<>();
        int next = vocabSize();
        for (String t : tokens) {
            if (t == null || t.isEmpty()) {
                throw new IllegalArgumentException("an added token is empty");
            }
            if (inVocabulary(t) || !seen.add(t)) {
                throw new IllegalArgumentException(
                        "token '" + t + "' is already in the tokenizer's vocabulary (" + dir + ")");
            }
            all.add(new AddedToken(t, next++, false, true, false, false, false));
        }
        return new CLIPTokenizer(folder, bpe, all);
    }

    /**
     * diffusers' {@code TextualInversionLoaderMixin.maybe_convert_prompt}: every added token of the
     * prompt that has siblings {@code <token>_1}, {@code <token>_2}, ... (a multi-vector
     * textual-inversion embedding) is replaced, everywhere in the raw text, by {@code "<token>
     * <token>_1 ..."}, so that it stands for all its vectors. As in diffusers this is a plain text
     * replacement of the token as the tokenizer found it; tokens are taken in the order they first
     * occur (diffusers iterates a set). A prompt without such tokens is returned unchanged.
     */
    public String maybeConvertPrompt(String prompt) {
        if (!hasMultiVectorTokens) {
            return prompt; // nothing can expand
        }
        String out = prompt;
        for (String token : new java.util.LinkedHashSet<>(tokenize(prompt))) {
            if (!addedIds.containsKey(token)) {
                continue;
            }
            StringBuilder replacement = new StringBuilder(token);
            for (int i = 1; addedIds.containsKey(token + "_" + i); i++) {
                replacement.append(' ').append(token).append('_').append(i);
            }
            out = out.replace(token, replacement.toString());
        }
        return out;
    }

    /** The number of ids each {@link Encoding} has: {@code model_max_length} (77 for SD). */
    public int maxLength() {
        return maxLength;
    }

    /** Id of the beginning-of-text token ({@code <|startoftext|>}, 49406). */
    public int bosTokenId() {
        return bosId;
    }

    /** Id of the end-of-text token ({@code <|endoftext|>}, 49407). */
    public int eosTokenId() {
        return eosId;
    }

    /** Id of the padding token: 49407 for SD 1.x folders, 0 ({@code !}) for SD 2.x folders. */
    public int padTokenId() {
        return padId;
    }

    /** The padding token's text. */
    public String padToken() {
        return padToken;
    }

    /** Id of the unknown token (CLIP: {@code <|endoftext|>}); byte-level BPE never needs it. */
    public int unkTokenId() {
        return unkId;
    }

    /** Number of ids, added tokens included (49408 for SD's vocabulary). */
    public int vocabSize() {
        return idToToken.length;
    }

    /** The vocabulary string of an id. */
    public String idToToken(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException(
                    "id "
                            + id
                            + " is not in the vocabulary of "
                            + dir
                            + " (size "
                            + idToToken.length
                            + ")");
        }
        return idToToken[id];
    }

    @Override
    public String toString() {
        return "CLIPTokenizer[" + dir + ", maxLength=" + maxLength + ", pad=" + padToken + "]";
    }
}
