package sdbatch.schemas;

/** Outcome of one metadata row; written lower case in the {@code status} column. */
public enum Status {
    /** The image was generated and written. */
    OK,
    /** The input row broke a validation rule; nothing was generated. */
    INVALID,
    /** Generation or writing failed; {@code error} holds the cause. */
    FAILED;

    /** The column value: {@code ok}, {@code invalid} or {@code failed}. */
    public String value() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** Parses a column value (case-insensitive). */
    public static Status parse(String value) {
        for (Status s : values()) {
            if (s.value().equalsIgnoreCase(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException(
                "status " + value + " is not one of ok, invalid, failed");
    }
}
