package sdbatch.schemas.validate;

import static sdbatch.schemas.validate.RowValidator.rejected;
import static sdbatch.schemas.validate.RowValidator.show;

import java.util.List;
import sdbatch.schemas.Columns;
import sdbatch.schemas.ExtraConditioning;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * {@link RowValidator}'s rules for prompt texts and tokens: every prompt column (the first text
 * encoder's, SDXL's and SD3's second and third) is at most {@value RowValidator#MAX_PROMPT_CHARS}
 * characters without U+0000, and SD3's {@code max_sequence_length} is in 1..{@value
 * RowValidator#MAX_SEQUENCE_LENGTH}.
 */
final class PromptRules {
    private PromptRules() {}

    /** The SDXL and SD3 prompt columns and SD3's T5 length (issues 16, 19). */
    static void checkExtra(PromptRow row, List<Problem> p) {
        GenerationParameters given = row.parameters();
        for (String column : ExtraConditioning.PROMPTS) {
            if (!rejected(row, column, p) && given.value(column) != null) {
                text(column, (String) given.value(column), p);
            }
        }
        if (!rejected(row, Columns.MAX_SEQUENCE_LENGTH, p)
                && given.extra().maxSequenceLength() != null) {
            int n = given.extra().maxSequenceLength();
            if (n < 1 || n > RowValidator.MAX_SEQUENCE_LENGTH) {
                p.add(
                        new Problem(
                                Columns.MAX_SEQUENCE_LENGTH,
                                Integer.toString(n),
                                "must be between 1 and "
                                        + RowValidator.MAX_SEQUENCE_LENGTH
                                        + " (T5 tokens, diffusers' SD3 rule)"));
            }
        }
    }

    /** Checks one prompt text: its length and that a PNG text chunk can hold it. */
    static void text(String column, String s, List<Problem> out) {
        if (s.length() > RowValidator.MAX_PROMPT_CHARS) {
            out.add(
                    new Problem(
                            column,
                            show(s),
                            "is longer than "
                                    + RowValidator.MAX_PROMPT_CHARS
                                    + " characters (CLIP reads only the first 77 tokens)"));
            return;
        }
        if (s.indexOf('\0') >= 0) {
            out.add(
                    new Problem(
                            column,
                            show(s),
                            "contains the character U+0000, which a PNG text chunk cannot hold"));
        }
    }
}
