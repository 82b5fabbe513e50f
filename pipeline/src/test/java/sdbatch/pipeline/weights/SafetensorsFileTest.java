package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
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

    /** Asserts the header is refused with a message naming the file, the tensor and the reason. */
    private void refused(String name, String header, int dataBytes, String tensor, String reason)
            throws Exception {
        String m = message(raw(name, header, dataBytes));
        assertTrue(m.contains("'" + tensor + "'"), "names the tensor: " + m);
        assertTrue(m.contains(reason), "says '" + reason + "': " + m);
    }

    @Test
    void duplicateNamesAreRefusedNotReplaced() throws Exception {
        // A JSON tree keeps the last of two equal names: the file would silently load other bytes.
        refused(
                "duptensor.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                8,
                "a",
                "declared twice");
        refused(
                "dupfield.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"shape\":[1],\"data_offsets\":[0,4]}}",
                8,
                "a",
                "'shape' is given twice");
        String m =
                message(
                        raw(
                                "dupmeta.safetensors",
                                "{\"__metadata__\":{\"format\":\"pt\",\"format\":\"np\"},"
                                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                                4));
        assertTrue(m.contains("'format'") && m.contains("twice"), m);
    }

    @Test
    void numbersMustBeExactIntegers() throws Exception {
        // 3.7 used to become 3 and 2^64+4 used to wrap to 4: both described a valid-looking tensor.
        refused(
                "fraction.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[3.7],\"data_offsets\":[0,12]}}",
                12,
                "a",
                "3.7, not a non-negative integer");
        refused(
                "wrap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[18446744073709551620],"
                        + "\"data_offsets\":[0,16]}}",
                16,
                "a",
                "18446744073709551620, out of the 64-bit range");
        refused(
                "wrapoffset.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],"
                        + "\"data_offsets\":[18446744073709551616,16]}}",
                16,
                "a",
                "out of the 64-bit range");
        refused(
                "exponent.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,1.6e1]}}",
                16,
                "a",
                "1.6e1, not a non-negative integer");
        refused(
                "quoted.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}",
                16,
                "a",
                "not an integer");
        refused(
                "negative.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}",
                16,
                "a",
                "negative dimension");
        refused(
                "negoffset.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}",
                16,
                "a",
                "outside");
        refused(
                "overflow.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                        + "\"data_offsets\":[0,16]}}",
                16,
                "a",
                "overflows");
        refused(
                "missingfield.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4]}}",
                16,
                "a",
                "missing data_offsets");
        refused(
                "threeoffsets.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,8,16]}}",
                16,
                "a",
                "[begin, end]");
    }

    @Test
    void trailingDataAfterTheHeaderObjectIsRefused() throws Exception {
        // Refused before too (a guard, not a fix): a second object could hide other tensors.
        String m =
                message(
                        raw(
                                "trailing.safetensors",
                                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
                                        + "{\"b\":1}",
                                4));
        assertTrue(m.contains("JSON"), m);
    }

    /** Two tensors: "a" (4 floats, first page) and "b" (1 Mi floats, 4 MiB, far past it). */
    private Path twoTensors(String name) throws Exception {
        float[] big = new float[1 << 20];
        for (int i = 0; i < big.length; i++) {
            big[i] = i;
        }
        Path p = dir.resolve(name);
        new SafetensorsWriter()
                .add("a", new long[] {4}, new float[] {1, 2, 3, 4})
                .add("b", new long[] {big.length}, big)
                .write(p);
        return p;
    }

    @Test
    void fileTruncatedAfterOpenGivesAClearExceptionNotACrash() throws Exception {
        Path p = twoTensors("shrinks.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            ByteBuffer a = f.bytes("a");
            long cut = f.info("b").begin() + 16;
            try (FileChannel w = FileChannel.open(p, StandardOpenOption.WRITE)) {
                w.truncate(cut);
            }
            // A memory mapping would raise SIGBUS here (JVM crash or InternalError).
            SafetensorsException e =
                    assertThrows(SafetensorsException.class, () -> f.readFloats("b"));
            assertTrue(e.getMessage().contains(p.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("'b'"), e.getMessage());
            assertTrue(e.getMessage().contains("since it was opened"), e.getMessage());
            // What was read before the truncation is the reader's own copy and stays valid.
            assertEquals(4f, a.getFloat(12));
        }
    }

    @Test
    void fileModifiedInPlaceAfterOpenIsRefused() throws Exception {
        Path p = twoTensors("rewritten.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(5f, f.readFloats("b")[5]);
            long at = f.info("b").begin();
            try (FileChannel w = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ByteBuffer junk = ByteBuffer.allocate(64);
                while (junk.hasRemaining()) {
                    junk.put((byte) 0x7f);
                }
                junk.flip();
                w.write(junk, at);
            }
            // Some filesystems keep coarse timestamps: make the change visible whatever they keep.
            Files.setLastModifiedTime(
                    p, FileTime.fromMillis(Files.getLastModifiedTime(p).toMillis() + 10_000));
            SafetensorsException e =
                    assertThrows(SafetensorsException.class, () -> f.readFloats("b"));
            assertTrue(e.getMessage().contains("modified in place"), e.getMessage());
            assertTrue(e.getMessage().contains("'b'"), e.getMessage());
        }
    }

    @Test
    void fileReplacedByRenameKeepsReadingTheOpenedFile() throws Exception {
        Path p = twoTensors("replaced.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            Path other = dir.resolve("new.safetensors");
            new SafetensorsWriter().add("x", new long[] {1}, new float[] {9}).write(other);
            Files.move(
                    other, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            // The open file is intact (only its name moved on): reading it is safe and consistent.
            assertEquals(1234f, f.readFloats("b")[1234]);
        }
    }

    @Test
    void closedFileRefusesReads() throws Exception {
        Path p = twoTensors("closed.safetensors");
        SafetensorsFile f = SafetensorsFile.open(p);
        f.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> f.bytes("a"));
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
    }
}
