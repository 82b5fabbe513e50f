package sdbatch.pipeline.weights;

import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import sdbatch.pipeline.weights.SafetensorsFile.TensorInfo;

/**
 * The strict parser of a safetensors JSON header that {@link SafetensorsFile#open} trusts nothing
 * without: each entry's dtype, shape and offsets checked against the data section and each other,
 * every violation a {@link SafetensorsException} naming the file.
 */
final class SafetensorsHeader {

    /** Digits only: no sign, fraction or exponent (a negative value is reported as such). */
    private static final Pattern INTEGER_LITERAL = Pattern.compile("-?[0-9]+");

    private SafetensorsHeader() {}

    /**
     * Parses the header strictly, with a streaming reader rather than a JSON tree: a tree silently
     * keeps the last of two equal names and coerces {@code 3.7} or {@code 2^64+4} to a long, so a
     * hand-edited or hostile header could describe other tensors than the writer meant.
     */
    static Map<String, TensorInfo> parse(
            Path path, String json, long dataStart, long dataLen, Map<String, String> metadata) {
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        boolean sawMetadata = false;
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            if (reader.peek() != JsonToken.BEGIN_OBJECT) {
                throw new SafetensorsException(path, "header is not a JSON object");
            }
            reader.beginObject();
            while (reader.hasNext()) {
                String name = reader.nextName();
                if ("__metadata__".equals(name)) {
                    if (sawMetadata) {
                        throw new SafetensorsException(
                                path, "header holds '__metadata__' twice (ambiguous header)");
                    }
                    sawMetadata = true;
                    readMetadata(path, reader, metadata);
                    continue;
                }
                if (tensors.containsKey(name)) {
                    throw new SafetensorsException(
                            path,
                            "tensor '"
                                    + name
                                    + "' is declared twice in the header (ambiguous header)");
                }
                tensors.put(name, parseTensor(path, name, reader, dataStart, dataLen));
            }
            reader.endObject();
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new SafetensorsException(path, "header has data after its JSON object");
            }
        } catch (SafetensorsException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsException(path, "header is not valid JSON: " + e.getMessage(), e);
        }
        checkNoOverlap(path, tensors.values());
        return tensors;
    }

    private static void readMetadata(Path path, JsonReader reader, Map<String, String> metadata)
            throws IOException {
        if (reader.peek() != JsonToken.BEGIN_OBJECT) {
            // Tolerated as before: __metadata__ is free-form and sdbatch only reads it for display.
            reader.skipValue();
            return;
        }
        reader.beginObject();
        while (reader.hasNext()) {
            String key = reader.nextName();
            String value =
                    switch (reader.peek()) {
                        case STRING, NUMBER -> reader.nextString();
                        case BOOLEAN -> Boolean.toString(reader.nextBoolean());
                        default -> JsonParser.parseReader(reader).toString();
                    };
            if (metadata.put(key, value) != null) {
                throw new SafetensorsException(
                        path,
                        "__metadata__ key '" + key + "' is declared twice (ambiguous header)");
            }
        }
        reader.endObject();
    }

    private static TensorInfo parseTensor(
            Path path, String name, JsonReader reader, long dataStart, long dataLen) {
        try {
            String dtypeName = null;
            long[] shape = null;
            long[] offsets = null;
            reader.beginObject();
            while (reader.hasNext()) {
                String field = reader.nextName();
                switch (field) {
                    case "dtype" -> {
                        requireFirst(field, dtypeName);
                        dtypeName = reader.nextString();
                    }
                    case "shape" -> {
                        requireFirst(field, shape);
                        shape = readIntegers(reader, "shape");
                    }
                    case "data_offsets" -> {
                        requireFirst(field, offsets);
                        offsets = readIntegers(reader, "data_offsets");
                    }
                    // The reference reader ignores fields it does not know; so does this one.
                    default -> reader.skipValue();
                }
            }
            reader.endObject();
            if (dtypeName == null || shape == null || offsets == null) {
                throw new IllegalArgumentException(
                        "needs dtype, shape and data_offsets; missing "
                                + (dtypeName == null
                                        ? "dtype"
                                        : shape == null ? "shape" : "data_offsets"));
            }
            Dtype dtype = Dtype.fromSafetensors(dtypeName);
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension " + d);
                }
            }
            if (offsets.length != 2) {
                throw new IllegalArgumentException("data_offsets must be [begin, end]");
            }
            long begin = offsets[0];
            long end = offsets[1];
            if (begin < 0 || end < begin || end > dataLen) {
                throw new IllegalArgumentException(
                        "data_offsets ["
                                + begin
                                + ", "
                                + end
                                + "] lie outside the "
                                + dataLen
                                + " data bytes (truncated file or lying header)");
            }
            TensorInfo info =
                    new TensorInfo(name, dtype, shape, dataStart + begin, dataStart + end);
            long expected;
            try {
                expected = Math.multiplyExact(info.elementCount(), (long) dtype.byteSize());
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(
                        "shape " + Arrays.toString(shape) + " overflows a 64-bit byte count");
            }
            if (expected != end - begin) {
                throw new IllegalArgumentException(
                        "shape "
                                + Arrays.toString(shape)
                                + " of "
                                + dtype
                                + " needs "
                                + expected
                                + " bytes but data_offsets span "
                                + (end - begin));
            }
            return info;
        } catch (IOException | RuntimeException e) {
            throw new SafetensorsException(
                    path, "tensor '" + name + "' has a bad header entry: " + e.getMessage(), e);
        }
    }

    private static void requireFirst(String field, Object previous) {
        if (previous != null) {
            throw new IllegalArgumentException("field '" + field + "' is given twice");
        }
    }

    /**
     * A JSON array of non-negative integers that fit a signed 64-bit long, each taken from its
     * literal text: {@code 3.7}, {@code 1e3}, {@code "4"} and {@code 18446744073709551620} are
     * refused, not rounded or wrapped.
     */
    private static long[] readIntegers(JsonReader reader, String field) throws IOException {
        if (reader.peek() != JsonToken.BEGIN_ARRAY) {
            throw new IllegalArgumentException(field + " must be an array of integers");
        }
        List<Long> values = new ArrayList<>();
        reader.beginArray();
        while (reader.hasNext()) {
            if (reader.peek() != JsonToken.NUMBER) {
                throw new IllegalArgumentException(
                        field + " holds " + reader.peek() + ", not an integer");
            }
            String literal = reader.nextString();
            if (!INTEGER_LITERAL.matcher(literal).matches()) {
                throw new IllegalArgumentException(
                        field + " holds " + literal + ", not a non-negative integer");
            }
            try {
                values.add(Long.parseLong(literal));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        field + " holds " + literal + ", out of the 64-bit range");
            }
        }
        reader.endArray();
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    private static void checkNoOverlap(Path path, Iterable<TensorInfo> infos) {
        List<TensorInfo> sorted = new ArrayList<>();
        infos.forEach(sorted::add);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        for (int i = 1; i < sorted.size(); i++) {
            TensorInfo prev = sorted.get(i - 1);
            TensorInfo cur = sorted.get(i);
            if (cur.begin() < prev.end()) {
                throw new SafetensorsException(
                        path,
                        "tensors '"
                                + prev.name()
                                + "' and '"
                                + cur.name()
                                + "' overlap in the data section (lying header)");
            }
        }
    }
}
