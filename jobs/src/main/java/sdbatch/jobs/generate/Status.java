package sdbatch.jobs.generate;

import java.util.Locale;

/**
 * The outcome of one expanded request, as written to the metadata {@code status} column. Every
 * input row ends in exactly one of these per expanded request.
 */
public enum Status {
    /** The image was generated and stored. */
    OK,
    /** The row was rejected by validation; nothing was generated. */
    INVALID,
    /** Generation or storage failed; {@code error} says why. */
    FAILED;

    /**
     * The lower-case name written to the metadata ({@code ok}, {@code invalid}, {@code failed}).
     */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a {@link #label()}. */
    public static Status fromLabel(String label) {
        for (Status s : values()) {
            if (s.label().equals(label)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown status '" + label + "' (ok, invalid, failed)");
    }
}
