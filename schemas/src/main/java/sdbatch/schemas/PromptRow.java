package sdbatch.schemas;

import java.io.Serializable;
import java.math.BigDecimal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One input row of the prompt table as typed, nullable fields, before validation and defaults.
 *
 * <p>Built by {@link #fromColumns}: the recognised columns (see {@link Columns#INPUT}, aliases and
 * case resolved) are converted to their types; a value that cannot be converted (the string {@code
 * "abc"} in {@code steps}, a number in {@code prompt}) leaves the typed field null and is kept in
 * {@link #rejected()} with the reason, so the validator can report the column and the value instead
 * of treating it as "use the default". Every other column is kept, in table order, in {@link
 * #passthrough()}.
 *
 * @param rowNumber 0-based position of the row in the input table (stable identity for errors)
 * @param sourceId where the row came from (e.g. {@code prompts.csv:17}), for messages; may be null
 * @param parameters the generation parameters as written, each null when absent or unconvertible (a
 *     null prompt is invalid: prompt is required); scheduler and its config as written
 * @param rejected canonical column → value that could not be converted (never null)
 * @param passthrough non-input columns in table order (never null; values may be null)
 */
public record PromptRow(
        long rowNumber,
        String sourceId,
        GenerationParameters parameters,
        Map<String, Rejected> rejected,
        Map<String, Object> passthrough)
        implements Serializable {

    /**
     * A value that could not be converted to its column's type.
     *
     * @param column canonical column name
     * @param value the raw value as read
     * @param rule why it was rejected
     */
    public record Rejected(String column, Object value, String rule) implements Serializable {}

    /** Checks the parameters are there and copies the maps into unmodifiable ordered maps. */
    public PromptRow {
        Objects.requireNonNull(parameters, "parameters");
        rejected = orderedCopy(rejected);
        passthrough = orderedCopy(passthrough);
    }

    /**
     * {@code columns} as an unmodifiable map in their own (table) order, null as empty: how a row's
     * passthrough travels on into its requests and metadata rows.
     */
    static <V> Map<String, V> orderedCopy(Map<String, V> columns) {
        return Collections.unmodifiableMap(
                new LinkedHashMap<>(columns == null ? Map.<String, V>of() : columns));
    }

    /** A row holding only a prompt (tests and the {@code generate} of a single prompt). */
    public static PromptRow ofPrompt(long rowNumber, String prompt) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(Columns.PROMPT, prompt);
        return fromColumns(rowNumber, null, m);
    }

    /**
     * Converts one table row.
     *
     * <p>Accepted Java values: strings for string columns; for integer columns any integral {@link
     * Number} in range or a string holding a decimal integer (CSV without schema inference gives
     * strings); for double columns any {@link Number} or a decimal string ({@code NaN} and {@code
     * Infinity} parse, and are then rejected by the validator's rules); for boolean columns a
     * {@link Boolean}, the text {@code true}/{@code false} (any case) or {@code 1}/{@code 0}, or an
     * integral number 1 or 0. Anything else is {@link Rejected}. The same input column given twice
     * (e.g. {@code steps} and {@code num_inference_steps}) with two different non-null values is
     * rejected too.
     *
     * @param rowNumber 0-based row number
     * @param sourceId where the row came from, or null
     * @param columns column name → value, in table order (iteration order is kept)
     */
    public static PromptRow fromColumns(long rowNumber, String sourceId, Map<String, ?> columns) {
        Map<String, Object> typed = new LinkedHashMap<>();
        Map<String, Object> rawSeen = new LinkedHashMap<>();
        Map<String, Rejected> rejected = new LinkedHashMap<>();
        Map<String, Object> passthrough = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : columns.entrySet()) {
            Optional<Column> col = Columns.input(e.getKey());
            if (col.isEmpty()) {
                passthrough.put(e.getKey(), e.getValue());
                continue;
            }
            String name = col.get().name();
            Object raw = e.getValue();
            if (raw == null) {
                continue;
            }
            if (rawSeen.containsKey(name)) {
                if (!Objects.equals(rawSeen.get(name), raw)) {
                    rejected.put(
                            name,
                            new Rejected(
                                    name,
                                    raw,
                                    "column "
                                            + name
                                            + " is given twice (as "
                                            + e.getKey()
                                            + " and another name) with different values "
                                            + rawSeen.get(name)
                                            + " and "
                                            + raw));
                    typed.remove(name);
                }
                continue;
            }
            rawSeen.put(name, raw);
            try {
                typed.put(name, convert(col.get(), raw));
            } catch (IllegalArgumentException ex) {
                rejected.put(name, new Rejected(name, raw, ex.getMessage()));
            }
        }
        return new PromptRow(
                rowNumber, sourceId, GenerationParameters.fromValues(typed), rejected, passthrough);
    }

    /** The row in messages: its source id, else {@code row <n>}. */
    public String describe() {
        return sourceId != null ? sourceId : "row " + rowNumber;
    }

    private static final Pattern DECIMAL =
            Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern NON_FINITE =
            Pattern.compile("[+-]?(nan|inf|infinity)", Pattern.CASE_INSENSITIVE);

    private static Object convert(Column col, Object raw) {
        switch (col.type()) {
            case STRING:
                if (raw instanceof CharSequence) {
                    return raw.toString();
                }
                throw typeError(col, raw, "a string");
            case INT:
                {
                    long v = integral(col, raw);
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new IllegalArgumentException(
                                "is outside the 32-bit integer range of column " + col.name());
                    }
                    return (int) v;
                }
            case LONG:
                return integral(col, raw);
            case DOUBLE:
                if (raw instanceof Number && !(raw instanceof BigDecimal)) {
                    return ((Number) raw).doubleValue();
                }
                if (raw instanceof BigDecimal) {
                    return ((BigDecimal) raw).doubleValue();
                }
                if (raw instanceof CharSequence) {
                    String s = raw.toString().strip();
                    if (DECIMAL.matcher(s).matches()) {
                        return Double.parseDouble(s);
                    }
                    if (NON_FINITE.matcher(s).matches()) {
                        boolean neg = s.startsWith("-");
                        return s.toLowerCase(java.util.Locale.ROOT).contains("nan")
                                ? Double.NaN
                                : neg ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
                    }
                }
                throw typeError(col, raw, "a number");
            case BOOLEAN:
                return bool(col, raw);
            default:
                throw new IllegalStateException("no input column has type " + col.type());
        }
    }

    private static long integral(Column col, Object raw) {
        if (raw instanceof Integer
                || raw instanceof Long
                || raw instanceof Short
                || raw instanceof Byte) {
            return ((Number) raw).longValue();
        }
        BigDecimal d = null;
        if (raw instanceof Float || raw instanceof Double) {
            double x = ((Number) raw).doubleValue();
            if (Double.isFinite(x)) {
                d = new BigDecimal(x);
            }
        } else if (raw instanceof BigDecimal) {
            d = (BigDecimal) raw;
        } else if (raw instanceof java.math.BigInteger) {
            d = new BigDecimal((java.math.BigInteger) raw);
        } else if (raw instanceof CharSequence) {
            String s = raw.toString().strip();
            if (DECIMAL.matcher(s).matches() && s.length() < 64) {
                d = new BigDecimal(s);
            }
        }
        if (d != null) {
            try {
                return d.stripTrailingZeros().longValueExact();
            } catch (ArithmeticException e) {
                // not integral or out of range: a type error below
            }
        }
        throw typeError(col, raw, "an integer");
    }

    private static boolean bool(Column col, Object raw) {
        if (raw instanceof Boolean b) {
            return b;
        }
        if (raw instanceof CharSequence) {
            switch (raw.toString().strip().toLowerCase(java.util.Locale.ROOT)) {
                case "true", "1":
                    return true;
                case "false", "0":
                    return false;
                default:
                    break;
            }
        } else if (raw instanceof Number n
                && !(raw instanceof Double || raw instanceof Float || raw instanceof BigDecimal)) {
            long v = n.longValue();
            if (v == 0 || v == 1) {
                return v == 1;
            }
        }
        throw typeError(col, raw, "a boolean (true/false or 1/0)");
    }

    private static IllegalArgumentException typeError(Column col, Object raw, String expected) {
        return new IllegalArgumentException(
                "is not "
                        + expected
                        + " (column "
                        + col.name()
                        + " has type "
                        + col.type()
                        + ", got "
                        + raw.getClass().getSimpleName()
                        + ")");
    }
}
