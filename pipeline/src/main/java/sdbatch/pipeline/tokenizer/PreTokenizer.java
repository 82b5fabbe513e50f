package sdbatch.pipeline.tokenizer;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Everything before BPE, as transformers 5's {@code CLIPTokenizer} (a tokenizers backend) does it:
 *
 * <ol>
 *   <li>split the raw prompt on the added tokens that are not {@code normalized} (the special
 *       tokens given as plain strings, such as SD 2.x's pad token {@code !});
 *   <li>normalize each remaining piece: NFC, every run of whitespace to one space, lower case;
 *   <li>split it on the {@code normalized} added tokens (such as {@code <|startoftext|>} and {@code
 *       <|endoftext|>} in diffusers folders);
 *   <li>keep the matches of CLIP's pattern, then split those with GPT-2's byte-level pattern.
 * </ol>
 *
 * <p>transformers 4's slow tokenizer cleaned text with ftfy (or BERT's BasicTokenizer without it)
 * and html-unescaped it; transformers 5 no longer does, so neither does this class. Immutable and
 * thread-safe.
 */
final class PreTokenizer {
    /** CLIP's pattern; tokenizers applies it case-sensitively, after lower-casing. */
    // From transformers models/clip/tokenization_clip.py (pre_tokenizers.Split, invert=True).
    static final Pattern CLIP_PATTERN =
            Pattern.compile(
                    "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}"
                            + "|[^\\s\\p{L}\\p{N}]+",
                    Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * GPT-2's pattern, applied by tokenizers' ByteLevel pre-tokenizer ({@code use_regex=True}) to
     * each CLIP piece. It only changes the literal {@code <|startoftext|>} / {@code <|endoftext|>}
     * pieces (into {@code <|}, the word, {@code |>}); every other CLIP piece is one GPT-2 piece.
     */
    // From tokenizers pre_tokenizers/byte_level.rs.
    static final Pattern GPT2_PATTERN =
            Pattern.compile(
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
                            + "|\\s+",
                    Pattern.UNICODE_CHARACTER_CLASS);

    /** Receives the pieces of a prompt in order. */
    interface Sink {
        void addedToken(AddedToken token);

        void word(String word);
    }

    private final List<AddedToken> rawTokens = new ArrayList<>();
    private final List<AddedToken> normalizedTokens = new ArrayList<>();

    PreTokenizer(List<AddedToken> addedTokens) {
        for (AddedToken t : addedTokens) {
            if (t.normalized()) {
                // The match runs on normalized text, so the token's own text is normalized too.
                normalizedTokens.add(
                        new AddedToken(
                                normalize(t.content()),
                                t.id(),
                                t.special(),
                                true,
                                t.lstrip(),
                                t.rstrip(),
                                t.singleWord()));
            } else {
                rawTokens.add(t);
            }
        }
        // Longest first, so a scan at one position finds the longest match (leftmost-longest).
        Comparator<AddedToken> longestFirst =
                Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed();
        rawTokens.sort(longestFirst);
        normalizedTokens.sort(longestFirst);
    }

    void split(String text, Sink sink) {
        splitOnAddedTokens(
                text,
                rawTokens,
                sink,
                segment ->
                        splitOnAddedTokens(
                                normalize(segment), normalizedTokens, sink, s -> words(s, sink)));
    }

    private interface SegmentHandler {
        void handle(String segment);
    }

    // Port of tokenizers tokenizer/added_vocabulary.rs AddedVocabulary::find_matches
    // (leftmost-longest, lstrip/rstrip/single_word).
    private static void splitOnAddedTokens(
            String text, List<AddedToken> tokens, Sink sink, SegmentHandler rest) {
        if (tokens.isEmpty() || text.isEmpty()) {
            if (!text.isEmpty()) {
                rest.handle(text);
            }
            return;
        }
        int emitted = 0; // text before this index has been handed on
        int from = 0;
        // Next occurrence of each token at or after `from` (-2: not searched yet, -1: none left),
        // so a prompt full of matches stays linear instead of rescanning for every token.
        int[] nextAt = new int[tokens.size()];
        Arrays.fill(nextAt, -2);
        while (from < text.length()) {
            int start = -1;
            AddedToken found = null;
            for (int k = 0; k < tokens.size(); k++) {
                if (nextAt[k] == -2 || (nextAt[k] >= 0 && nextAt[k] < from)) {
                    nextAt[k] = text.indexOf(tokens.get(k).content(), from);
                }
                int at = nextAt[k];
                if (at >= 0 && (start < 0 || at < start)) {
                    start = at;
                    found = tokens.get(k);
                }
            }
            if (found == null) {
                break;
            }
            int end = start + found.content().length();
            from = end;
            if (found.singleWord()
                    && ((start > 0 && isWordChar(text.codePointBefore(start)))
                            || (end < text.length() && isWordChar(text.codePointAt(end))))) {
                continue;
            }
            int matchStart = start;
            int matchEnd = end;
            if (found.lstrip()) {
                while (matchStart > emitted && isWhiteSpace(text.charAt(matchStart - 1))) {
                    matchStart--;
                }
            }
            if (found.rstrip()) {
                while (matchEnd < text.length() && isWhiteSpace(text.charAt(matchEnd))) {
                    matchEnd++;
                }
                from = matchEnd;
            }
            if (matchStart > emitted) {
                rest.handle(text.substring(emitted, matchStart));
            }
            sink.addedToken(found);
            emitted = matchEnd;
        }
        if (emitted < text.length()) {
            rest.handle(text.substring(emitted));
        }
    }

    private static void words(String normalized, Sink sink) {
        Matcher clip = CLIP_PATTERN.matcher(normalized);
        while (clip.find()) {
            String piece = clip.group();
            if (isSingleGpt2Piece(piece)) {
                sink.word(piece);
            } else {
                Matcher gpt2 = GPT2_PATTERN.matcher(piece);
                while (gpt2.find()) {
                    sink.word(gpt2.group());
                }
            }
        }
    }

    /** A CLIP piece that is all letters, or has no letter or digit, is one GPT-2 piece as well. */
    private static boolean isSingleGpt2Piece(String piece) {
        if (piece.charAt(0) == '\'') {
            return false; // contractions and apostrophe runs: let the pattern decide
        }
        boolean letters = false;
        boolean others = false;
        for (int i = 0; i < piece.length(); ) {
            int cp = piece.codePointAt(i);
            i += Character.charCount(cp);
            if (Character.isLetter(cp) || isNumber(cp)) {
                letters = true;
            } else {
                others = true;
            }
        }
        return !(letters && others);
    }

    private static boolean isNumber(int cp) {
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER
                || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }

    /**
     * tokenizers' CLIP normalizer: {@code NFC}, {@code Replace(\s+, " ")}, {@code Lowercase}. The
     * lower-casing is per code point (Rust's {@code char::to_lowercase}), so Greek capital sigma
     * always becomes σ, never the word-final ς that {@link String#toLowerCase} would give.
     */
    static String normalize(String text) {
        String nfc =
                Normalizer.isNormalized(text, Normalizer.Form.NFC)
                        ? text
                        : Normalizer.normalize(text, Normalizer.Form.NFC);
        StringBuilder out = new StringBuilder(nfc.length());
        boolean inSpace = false;
        for (int i = 0; i < nfc.length(); ) {
            int cp = nfc.codePointAt(i);
            i += Character.charCount(cp);
            if (isWhiteSpace(cp)) {
                if (!inSpace) {
                    out.append(' ');
                }
                inSpace = true;
                continue;
            }
            inSpace = false;
            if (cp == 0x130) {
                // The one unconditional multi-char lower-case mapping (SpecialCasing.txt):
                // İ -> i + combining dot above; Character.toLowerCase(int) would give plain i.
                out.append("i\u0307");
            } else {
                out.appendCodePoint(Character.toLowerCase(cp));
            }
        }
        return out.toString();
    }

    /** Unicode White_Space, the set that {@code \s} matches in tokenizers' (Oniguruma) regex. */
    static boolean isWhiteSpace(int cp) {
        return (cp >= 0x09 && cp <= 0x0D)
                || cp == 0x20
                || cp == 0x85
                || cp == 0xA0
                || cp == 0x1680
                || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028
                || cp == 0x2029
                || cp == 0x202F
                || cp == 0x205F
                || cp == 0x3000;
    }

    private static boolean isWordChar(int cp) {
        return Character.isLetterOrDigit(cp) || cp == '_';
    }
}
