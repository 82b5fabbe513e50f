package sdbatch.schemas;

/**
 * The value type of a table column, independent of any engine. The Spark layer maps each constant
 * to one Spark SQL type; the Java value a {@link PromptRow} or {@link ResultRow} holds is given per
 * constant.
 */
public enum ColumnType {
    /** UTF-8 text; Java {@link String}. Spark {@code StringType}. */
    STRING,
    /** 32-bit signed integer; Java {@link Integer}. Spark {@code IntegerType}. */
    INT,
    /** 64-bit signed integer; Java {@link Long}. Spark {@code LongType}. */
    LONG,
    /** IEEE 754 double; Java {@link Double}. Spark {@code DoubleType}. */
    DOUBLE,
    /**
     * An instant, microsecond precision; Java {@link java.time.Instant}. Spark {@code
     * TimestampType}.
     */
    TIMESTAMP,
    /**
     * true or false; Java {@link Boolean}. Spark {@code BooleanType}. A table cell may also hold
     * the text {@code true}/{@code false} (any case) or {@code 1}/{@code 0} (CSV gives strings).
     */
    BOOLEAN
}
