package sdbatch.pipeline.config;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import sdbatch.pipeline.weights.ModelLoadException;

/**
 * Typed reads of one diffusers {@code config.json}: every getter takes the key and diffusers'
 * default, records the key as known, and reports a wrong type as a {@link ModelLoadException}
 * naming the file, the key and the value. What was never asked for is the file's {@link #extra()}.
 */
final class DiffusersConfigJson {
    private final String source;
    private final JsonObject root;
    private final Set<String> known = new TreeSet<>();

    DiffusersConfigJson(String source, JsonObject root) {
        this.source = source;
        this.root = root;
    }

    /** Reads and parses a JSON object file; a missing or malformed file names the path. */
    static DiffusersConfigJson read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ModelLoadException("config file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new ModelLoadException("cannot read config file " + file + ": " + e, e);
        }
        return parse(file.toString(), text);
    }

    static DiffusersConfigJson parse(String source, String json) {
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(json);
        } catch (JsonParseException e) {
            throw new ModelLoadException(source + " is not valid JSON: " + e.getMessage(), e);
        }
        if (parsed == null || !parsed.isJsonObject()) {
            throw new ModelLoadException(source + " must hold a JSON object, found: " + parsed);
        }
        return new DiffusersConfigJson(source, parsed.getAsJsonObject());
    }

    String source() {
        return source;
    }

    /**
     * Refuses a value of a config record (checked in its constructor) unless {@code ok}: a {@link
     * ModelLoadException} "{@code <component> config: "<key>" = <value> <rule>}".
     */
    static void check(String component, boolean ok, String key, Object value, String rule) {
        if (!ok) {
            throw new ModelLoadException(
                    component + " config: \"" + key + "\" = " + value + " " + rule);
        }
    }

    /** Marks keys as known without reading them (metadata such as {@code _class_name}). */
    void ignore(String... keys) {
        Collections.addAll(known, keys);
    }

    /** Marks keys as known without reading them, as {@link #ignore(String...)}. */
    void ignore(Collection<String> keys) {
        known.addAll(keys);
    }

    private JsonElement value(String key) {
        known.add(key);
        JsonElement e = root.get(key);
        return e == null || e.isJsonNull() ? null : e;
    }

    ModelLoadException bad(String key, Object value, String rule) {
        return new ModelLoadException(source + ": \"" + key + "\" = " + value + " " + rule);
    }

    int getInt(String key, int dflt) {
        Integer v = getIntOrNull(key, dflt);
        return v == null ? dflt : v;
    }

    Integer getIntOrNull(String key, Integer dflt) {
        JsonElement e = value(key);
        if (e == null) {
            return dflt;
        }
        return asInt(key, e);
    }

    private int asInt(String key, JsonElement e) {
        try {
            double d = e.getAsDouble();
            if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isNumber() || d != Math.rint(d)) {
                throw bad(key, e, "is not an integer");
            }
            return Math.toIntExact((long) d);
        } catch (UnsupportedOperationException | IllegalStateException | NumberFormatException ex) {
            throw bad(key, e, "is not an integer");
        }
    }

    double getDouble(String key, double dflt) {
        Double v = getDoubleOrNull(key, dflt);
        return v == null ? dflt : v;
    }

    Double getDoubleOrNull(String key, Double dflt) {
        return primitive(
                key, dflt, JsonPrimitive::isNumber, JsonPrimitive::getAsDouble, "is not a number");
    }

    boolean getBool(String key, boolean dflt) {
        return primitive(
                key,
                dflt,
                JsonPrimitive::isBoolean,
                JsonPrimitive::getAsBoolean,
                "is not true or false");
    }

    String getString(String key, String dflt) {
        return primitive(
                key, dflt, JsonPrimitive::isString, JsonPrimitive::getAsString, "is not a string");
    }

    /**
     * A single JSON value of one kind ({@code is}, read by {@code as}); {@code dflt} when absent or
     * null, and any other value refused with {@code rule}.
     */
    private <T> T primitive(
            String key,
            T dflt,
            Predicate<JsonPrimitive> is,
            Function<JsonPrimitive, T> as,
            String rule) {
        JsonElement e = value(key);
        if (e == null) {
            return dflt;
        }
        if (!e.isJsonPrimitive() || !is.test(e.getAsJsonPrimitive())) {
            throw bad(key, e, rule);
        }
        return as.apply(e.getAsJsonPrimitive());
    }

    List<String> getStrings(String key, List<String> dflt) {
        String rule = "is not a list of strings";
        return list(
                key,
                dflt,
                rule,
                (list, x) -> {
                    if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
                        throw bad(key, list, rule);
                    }
                    return x.getAsString();
                });
    }

    List<Integer> getInts(String key, List<Integer> dflt) {
        return list(key, dflt, "is not a list of integers", (list, x) -> asInt(key, x));
    }

    /**
     * A JSON list read element by element ({@code element} gets the list and one element); {@code
     * dflt} when absent or null, anything but a list refused with {@code rule}.
     */
    private <T> List<T> list(
            String key,
            List<T> dflt,
            String rule,
            BiFunction<JsonElement, JsonElement, T> element) {
        JsonElement e = value(key);
        if (e == null) {
            return dflt;
        }
        if (!e.isJsonArray()) {
            throw bad(key, e, rule);
        }
        List<T> out = new ArrayList<>();
        for (JsonElement x : e.getAsJsonArray()) {
            out.add(element.apply(e, x));
        }
        return List.copyOf(out);
    }

    /**
     * A key diffusers accepts as one int for every block or as one int per block: the result has
     * {@code blocks} entries. Null (JSON null or absent with a null default) stays null.
     */
    List<Integer> getPerBlock(String key, Integer dflt, int blocks) {
        JsonElement e = value(key);
        if (e == null) {
            return dflt == null ? null : Collections.nCopies(blocks, dflt);
        }
        if (e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            if (a.size() != blocks) {
                throw bad(key, e, "must have one entry per block (" + blocks + " blocks)");
            }
            List<Integer> out = new ArrayList<>();
            for (JsonElement x : a) {
                if (x.isJsonArray()) {
                    throw bad(key, e, "has nested lists, which sdbatch does not support");
                }
                out.add(asInt(key, x));
            }
            return List.copyOf(out);
        }
        return Collections.nCopies(blocks, asInt(key, e));
    }

    /**
     * Reads a key sdbatch knows but does not implement: any value other than diffusers' default
     * would change the model, so it is refused with the reason instead of silently ignored.
     */
    void requireDefault(String key, Object dflt, String feature) {
        JsonElement e = value(key);
        Object actual;
        if (e == null) {
            actual = null;
        } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isBoolean()) {
            actual = e.getAsBoolean();
        } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            actual = e.getAsString();
        } else if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isNumber()) {
            actual = e.getAsDouble();
        } else {
            actual = e.toString();
        }
        Object expected = dflt instanceof Number n ? (Object) n.doubleValue() : dflt;
        if (actual != null && !Objects.equals(actual, expected)) {
            throw bad(
                    key,
                    e,
                    "selects "
                            + feature
                            + ", which sdbatch does not implement (supported: "
                            + dflt
                            + ")");
        }
    }

    /** Every key not read or ignored so far, in file order. */
    Map<String, JsonElement> extra() {
        Map<String, JsonElement> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.entrySet()) {
            if (!known.contains(e.getKey())) {
                out.put(e.getKey(), e.getValue());
            }
        }
        return Collections.unmodifiableMap(out);
    }
}
