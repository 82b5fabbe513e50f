package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader trusts nothing: truncated files, bad headers and lying offsets. */
class SafetensorsFileTest {
    @TempDir Path dir;

    /** A file with a given header JSON and {@code dataBytes} bytes of data. */
    private Path raw(String name, String header, int dataBytes) throws Exception {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b =
                ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        for (int i = 0; i < dataBytes / 4; i++) {
            b.putFloat(i);
        }
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private String message(Path p) {
        SafetensorsException e =
                assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void validFileRoundTrips() throws Exception {
        Path p = dir.resolve("ok.safetensors");
        new SafetensorsWriter().add("a", new long[] {2, 2}, new float[] {1, 2, 3, 4}).write(p);
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, f.readFloats("a"));
        }
    }

    @Test
    void truncatedFileIsRefused() throws Exception {
        Path p = dir.resolve("full.safetensors");
        new SafetensorsWriter().add("a", new long[] {4, 4}, new float[16]).write(p);
        byte[] all = Files.readAllBytes(p);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length - 10));
        assertTrue(message(cut).contains("data_offsets"));
        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        assertTrue(message(tiny).contains("shorter than"));
        Path headerCut = dir.resolve("headercut.safetensors");
        Files.write(headerCut, Arrays.copyOf(all, 20));
        assertTrue(message(headerCut).contains("truncated"));
    }

    @Test
    void badHeaderIsRefused() throws Exception {
        assertTrue(message(raw("notjson.safetensors", "{not json", 0)).contains("JSON"));
        assertTrue(message(raw("array.safetensors", "[1, 2]", 0)).contains("JSON object"));
        assertTrue(
                message(
                                raw(
                                        "dtype.safetensors",
                                        "{\"a\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                        4))
                        .contains("F12"));
        Path huge = dir.resolve("huge.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(Long.MAX_VALUE / 2);
        Files.write(huge, b.array());
        assertTrue(message(huge).contains("header"));
    }

    @Test
    void headerLyingAboutOffsetsIsRefused() throws Exception {
        // Past the end of the data.
        assertTrue(
                message(
                                raw(
                                        "past.safetensors",
                                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}",
                                        8))
                        .contains("outside"));
        // Byte count disagrees with the shape.
        assertTrue(
                message(
                                raw(
                                        "count.safetensors",
                                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}",
                                        16))
                        .contains("needs 12 bytes"));
        // Two tensors over the same bytes.
        assertTrue(
                message(
                                raw(
                                        "overlap.safetensors",
                                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                                        12))
                        .contains("overlap"));
        // Negative / reversed offsets.
        assertTrue(
                message(
                                raw(
                                        "reversed.safetensors",
                                        "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}",
                                        8))
                        .contains("outside"));
    }
}
