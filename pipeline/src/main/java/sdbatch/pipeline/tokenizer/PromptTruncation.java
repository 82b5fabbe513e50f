package sdbatch.pipeline.tokenizer;

import java.util.List;
import java.util.Objects;

/**
 * One prompt text a tokenizer cut: diffusers logs "The following part of your input was truncated
 * because CLIP can only handle sequences up to 77 tokens" (or "... because {@code
 * max_sequence_length} is set to N tokens" for SD3's T5) and encodes the first tokens only; the
 * image is still made. A caller that keeps per-image records (the job's {@code warning} column)
 * says so with {@link #message()}.
 *
 * @param input the argument the text came from, in diffusers' names ({@code prompt}, {@code
 *     negative_prompt_3}, ...): where an SD3 {@code prompt_3} is null, T5 reads {@code prompt}, and
 *     that is what is named
 * @param tokenizer which tokenizer cut it: {@value #CLIP} or {@value #T5}
 * @param tokens the untruncated encoding's length, its special tokens included (CLIP's bos and eos,
 *     T5's {@code </s>})
 * @param limit the tokenizer's length: CLIP's {@code model_max_length} (77), or the request's
 *     {@code max_sequence_length} for T5
 */
public record PromptTruncation(String input, String tokenizer, int tokens, int limit) {
    /** The name of the CLIP tokenizers in messages. */
    public static final String CLIP = "CLIP";

    /** The name of SD3's T5 tokenizer in messages. */
    public static final String T5 = "T5";

    /** Checks that something was cut. */
    public PromptTruncation {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (tokens <= limit) {
            throw new IllegalArgumentException(
                    input + ": " + tokens + " tokens fit the limit " + limit + "; nothing is cut");
        }
    }

    /** How many tokens were cut from the end (diffusers keeps the first, and the end token). */
    public int cut() {
        return tokens - limit;
    }

    /**
     * E.g. "prompt_3 is 301 T5 tokens, longer than max_sequence_length 256: the last 45 are cut (as
     * diffusers does)".
     */
    public String message() {
        String bound =
                T5.equals(tokenizer)
                        ? "max_sequence_length " + limit
                        : "the " + limit + " " + tokenizer + " takes";
        return input
                + " is "
                + tokens
                + " "
                + tokenizer
                + " tokens, longer than "
                + bound
                + ": the last "
                + cut()
                + " are cut (as diffusers does)";
    }

    /**
     * What {@code tok} cuts of {@code text} (already through {@code maybe_convert_prompt} where the
     * family does that), or null when it fits.
     */
    public static PromptTruncation clip(String input, CLIPTokenizer tok, String text) {
        int cut = tok.encode(text).truncatedTokens();
        return cut == 0
                ? null
                : new PromptTruncation(input, CLIP, tok.maxLength() + cut, tok.maxLength());
    }

    /**
     * What {@code tok} cuts of {@code text} at {@code maxSequenceLength}, or null when it fits
     * ({@link T5Tokenizer#encode}'s truncation: its ids with {@code </s>} beyond the length).
     */
    public static PromptTruncation t5(
            String input, T5Tokenizer tok, String text, int maxSequenceLength) {
        int tokens = tok.encodeUnpadded(text).length;
        return tokens <= maxSequenceLength
                ? null
                : new PromptTruncation(input, T5, tokens, maxSequenceLength);
    }

    /**
     * Adds {@code t} to {@code cuts} unless it is null or already there (a text two tokenizers of
     * the same vocabulary cut alike is said once: SDXL's and SD3's second CLIP reads {@code prompt}
     * where {@code prompt_2} is null).
     */
    public static void add(List<PromptTruncation> cuts, PromptTruncation t) {
        if (t != null && !cuts.contains(t)) {
            cuts.add(t);
        }
    }

    /** The messages of {@code cuts} joined with "; ", or null when there are none. */
    public static String messages(List<PromptTruncation> cuts) {
        if (cuts.isEmpty()) {
            return null;
        }
        return String.join("; ", cuts.stream().map(PromptTruncation::message).toList());
    }
}
