package sdbatch.pipeline.weights;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Writes float32 tensors in the safetensors format (used by the tiny model factory and tests). The
 * file is written under a temporary name and renamed, so a reader never sees half a file. Values
 * may be given as they are or drawn when written ({@link #addLazily}), so a multi-gigabyte file
 * needs no more heap than its largest tensor.
 */
public final class SafetensorsWriter {
    private final Map<String, long[]> shapes = new LinkedHashMap<>();
    private final Map<String, Supplier<float[]>> data = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    /** Adds a float32 tensor; {@code values.length} must equal the product of {@code shape}. */
    public SafetensorsWriter add(String name, long[] shape, float[] values) {
        if (elements(shape) != values.length) {
            throw new IllegalArgumentException(
                    name + ": " + values.length + " values for " + elements(shape) + " elements");
        }
        return addLazily(name, shape, () -> values);
    }

    /**
     * Adds a float32 tensor whose values {@code values} gives when the file is written (each tensor
     * is drawn, written and dropped in turn); their count must equal the product of {@code shape}.
     */
    public SafetensorsWriter addLazily(String name, long[] shape, Supplier<float[]> values) {
        if (shapes.putIfAbsent(name, shape.clone()) != null) {
            throw new IllegalArgumentException("duplicate tensor " + name);
        }
        data.put(name, values);
        return this;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Adds an entry to the {@code __metadata__} map. */
    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Writes the file atomically. */
    public void write(Path path) throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject m = new JsonObject();
            metadata.forEach(m::addProperty);
            header.add("__metadata__", m);
        }
        long offset = 0;
        for (var e : shapes.entrySet()) {
            JsonObject t = new JsonObject();
            t.addProperty("dtype", "F32");
            JsonArray shape = new JsonArray();
            for (long d : e.getValue()) {
                shape.add(d);
            }
            t.add("shape", shape);
            long len = 4L * elements(e.getValue());
            JsonArray offs = new JsonArray();
            offs.add(offset);
            offs.add(offset + len);
            t.add("data_offsets", offs);
            header.add(e.getKey(), t);
            offset += len;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        // The reference implementation pads the header with spaces to an 8-byte boundary.
        int padded = (json.length + 7) / 8 * 8;
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            len.putLong(padded);
            out.write(len.array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (var e : data.entrySet()) {
                float[] values = e.getValue().get();
                if (values.length != elements(shapes.get(e.getKey()))) {
                    throw new IllegalStateException(
                            e.getKey()
                                    + ": "
                                    + values.length
                                    + " values for "
                                    + elements(shapes.get(e.getKey()))
                                    + " elements");
                }
                for (float v : values) {
                    if (!buf.hasRemaining()) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    buf.putFloat(v);
                }
            }
            out.write(buf.array(), 0, buf.position());
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
