package sdbatch.schemas;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Canonical form of a per-request scheduler override object ({@code scheduler_config} column), so
 * that equal overrides give equal image ids however they were written: keys sorted, no whitespace,
 * numbers as the shortest plain decimal ({@code 1.0} and {@code 1} are both {@code 1}), strings
 * JSON-escaped. Null, blank or {@code {}} all canonicalise to {@code {}}.
 *
 * <p>Every number must lie within a double's range (decimal exponent {@value #MIN_EXPONENT} to
 * {@value #MAX_EXPONENT}), checked by {@link #parseObject}: the plain decimal of {@code
 * 1e999999999} is a billion characters, which would exhaust the executor's memory before any
 * scheduler could refuse the value.
 */
public final class SchedulerConfigJson {
    private SchedulerConfigJson() {}

    /** The canonical form of "no overrides". */
    public static final String EMPTY = "{}";

    /** Largest decimal exponent of an accepted number (a double's largest is about 1.8e308). */
    public static final int MAX_EXPONENT = 308;

    /**
     * Smallest decimal exponent of an accepted nonzero number (a double's smallest is 4.9e-324).
     */
    public static final int MIN_EXPONENT = -324;

    /**
     * Parses strict JSON that must be one object.
     *
     * @throws IllegalArgumentException naming the problem when the text is not a JSON object
     */
    public static JsonObject parseObject(String json) {
        if (json == null || json.isBlank()) {
            return new JsonObject();
        }
        JsonElement el;
        try (JsonReader r = new JsonReader(new StringReader(json))) {
            r.setStrictness(Strictness.STRICT);
            el = JsonParser.parseReader(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new IllegalArgumentException("is not one JSON value (text after the end)");
            }
        } catch (JsonParseException | IOException | IllegalStateException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalArgumentException("is not valid JSON: " + cause.getMessage(), e);
        }
        if (!el.isJsonObject()) {
            throw new IllegalArgumentException(
                    "is not a JSON object (got "
                            + kind(el)
                            + "); write e.g. {\"use_karras_sigmas\": true}");
        }
        checkNumbers(el, "");
        return el.getAsJsonObject();
    }

    /** Refuses any number outside a double's range; {@code path} names where it is. */
    private static void checkNumbers(JsonElement el, String path) {
        if (el.isJsonObject()) {
            for (Map.Entry<String, JsonElement> e : el.getAsJsonObject().entrySet()) {
                checkNumbers(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey());
            }
        } else if (el.isJsonArray()) {
            JsonArray a = el.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                checkNumbers(a.get(i), path + "[" + i + "]");
            }
        } else if (el.isJsonPrimitive() && el.getAsJsonPrimitive().isNumber()) {
            String text = el.getAsJsonPrimitive().getAsString();
            BigDecimal d;
            try {
                d = new BigDecimal(text);
            } catch (NumberFormatException e) {
                d = null; // an exponent beyond an int: out of range too
            }
            // The decimal exponent of the leading digit: 1.5e300 has 300.
            long exponent = d == null ? Long.MAX_VALUE : (long) d.precision() - d.scale() - 1;
            if (d == null
                    || (d.signum() != 0 && (exponent > MAX_EXPONENT || exponent < MIN_EXPONENT))) {
                String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
                throw new IllegalArgumentException(
                        "has the number "
                                + shown
                                + " at "
                                + path
                                + ", outside the range of a double (about 1e"
                                + MIN_EXPONENT
                                + " to 1e"
                                + MAX_EXPONENT
                                + ")");
            }
        }
    }

    /** Canonical text of a JSON object text; see the class comment. */
    public static String canonical(String json) {
        return canonical(parseObject(json));
    }

    /**
     * Canonical text of a parsed JSON value.
     *
     * @throws IllegalArgumentException for a number beyond a double's range (see the class comment)
     */
    public static String canonical(JsonElement el) {
        if (el != null) {
            checkNumbers(el, "$"); // a value parsed elsewhere (a PNG's request JSON) is checked too
        }
        StringBuilder sb = new StringBuilder();
        write(el, sb);
        return sb.toString();
    }

    private static void write(JsonElement el, StringBuilder sb) {
        if (el == null || el.isJsonNull()) {
            sb.append("null");
        } else if (el.isJsonObject()) {
            JsonObject o = el.getAsJsonObject();
            List<String> keys = new ArrayList<>(o.keySet());
            Collections.sort(keys);
            writeSeparated(
                    '{',
                    keys,
                    '}',
                    sb,
                    (key, out) -> {
                        writeString(key, out);
                        out.append(':');
                        write(o.get(key), out);
                    });
        } else if (el.isJsonArray()) {
            writeSeparated('[', el.getAsJsonArray().asList(), ']', sb, SchedulerConfigJson::write);
        } else {
            JsonPrimitive p = el.getAsJsonPrimitive();
            if (p.isBoolean()) {
                sb.append(p.getAsBoolean());
            } else if (p.isNumber()) {
                BigDecimal d = new BigDecimal(p.getAsString()).stripTrailingZeros();
                sb.append(d.signum() == 0 ? "0" : d.toPlainString());
            } else {
                writeString(p.getAsString(), sb);
            }
        }
    }

    /** Writes {@code items} between {@code open} and {@code close}, separated by commas. */
    private static <T> void writeSeparated(
            char open,
            List<T> items,
            char close,
            StringBuilder sb,
            BiConsumer<T, StringBuilder> writeItem) {
        sb.append(open);
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            writeItem.accept(items.get(i), sb);
        }
        sb.append(close);
    }

    /**
     * Writes a JSON string literal, escaping quote, backslash and control characters only: the text
     * Python's {@code json.dumps(s, ensure_ascii=False)} writes, so the canonical overrides and
     * A1111's quoted infotext values ({@code metadata.A1111Parameters#quote}) are spelled alike.
     */
    public static void writeString(String s, StringBuilder sb) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c); // ensure_ascii=False: everything else as is
                    }
                }
            }
        }
        sb.append('"');
    }

    private static String kind(JsonElement el) {
        if (el.isJsonArray()) {
            return "an array";
        }
        if (el.isJsonNull()) {
            return "null";
        }
        JsonPrimitive p = el.getAsJsonPrimitive();
        return p.isString() ? "a string" : p.isNumber() ? "a number" : "a boolean";
    }
}
