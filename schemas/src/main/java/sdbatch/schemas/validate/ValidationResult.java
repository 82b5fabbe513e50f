package sdbatch.schemas.validate;

import java.util.List;
import java.util.stream.Collectors;
import sdbatch.schemas.PromptRow;

/** The outcome of validating one {@link PromptRow}: {@link Valid} or {@link Invalid}. */
public sealed interface ValidationResult permits ValidationResult.Valid, ValidationResult.Invalid {

    /** The row validated. */
    PromptRow row();

    /** Whether the row may be expanded and generated. */
    default boolean isValid() {
        return this instanceof Valid;
    }

    /**
     * The row broke no rule.
     *
     * @param row the row
     */
    record Valid(PromptRow row) implements ValidationResult {}

    /**
     * The row broke at least one rule; {@link #message()} is what the {@code error} column says.
     *
     * @param row the row
     * @param problems every broken rule, in column order (never empty)
     */
    record Invalid(PromptRow row, List<Problem> problems) implements ValidationResult {
        /** Copies the list; requires at least one problem. */
        public Invalid {
            problems = List.copyOf(problems);
            if (problems.isEmpty()) {
                throw new IllegalArgumentException("an Invalid result needs a problem");
            }
        }

        /** All problems, joined by {@code "; "}. */
        public String message() {
            return problems.stream().map(Problem::message).collect(Collectors.joining("; "));
        }
    }

    /**
     * One broken rule.
     *
     * @param column the canonical column (or flag) name
     * @param value the offending value as shown to the user (quoted, truncated)
     * @param rule what the value must be
     */
    record Problem(String column, String value, String rule) {
        /** {@code <column> <value>: <rule>}, e.g. {@code steps 0: must be between 1 and 1000}. */
        public String message() {
            return column + " " + value + ": " + rule;
        }
    }
}
