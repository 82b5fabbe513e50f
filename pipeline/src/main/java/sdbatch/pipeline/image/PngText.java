package sdbatch.pipeline.image;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads the text chunks ({@code tEXt}, {@code zTXt}, {@code iTXt}) of a PNG, checking the signature
 * and every chunk's CRC: how tests, {@code --resume} checks and users confirm what a file says.
 */
public final class PngText {
    private PngText() {}

    private static final byte[] SIGNATURE = {(byte) 137, 80, 78, 71, 13, 10, 26, 10};

    /** Text chunks of the PNG file at {@code path}; see {@link #read(byte[])}. */
    public static Map<String, String> read(Path path) throws IOException {
        try {
            return read(Files.readAllBytes(path));
        } catch (IllegalArgumentException e) {
            throw new IOException(path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Text chunks keyword → text, in file order (a repeated keyword keeps the last).
     *
     * @throws IllegalArgumentException when the bytes are not a well-formed PNG
     */
    public static Map<String, String> read(byte[] png) {
        if (png.length < 8 || !Arrays.equals(Arrays.copyOf(png, 8), SIGNATURE)) {
            throw new IllegalArgumentException("not a PNG (bad signature)");
        }
        Map<String, String> out = new LinkedHashMap<>();
        int pos = 8;
        while (pos + 12 <= png.length) {
            long len = readInt(png, pos) & 0xFFFFFFFFL;
            if (len > png.length - pos - 12) {
                throw new IllegalArgumentException("chunk at byte " + pos + " runs past the end");
            }
            String type = new String(png, pos + 4, 4, StandardCharsets.US_ASCII);
            int data = pos + 8;
            int n = (int) len;
            CRC32 crc = new CRC32();
            crc.update(png, pos + 4, 4 + n);
            if ((int) crc.getValue() != readInt(png, data + n)) {
                throw new IllegalArgumentException(
                        "chunk " + type + " at byte " + pos + " has a bad CRC");
            }
            byte[] d = Arrays.copyOfRange(png, data, data + n);
            switch (type) {
                case "tEXt" -> {
                    int z = indexOf(d, 0, type);
                    out.put(latin1(d, 0, z), latin1(d, z + 1, d.length));
                }
                case "zTXt" -> {
                    int z = indexOf(d, 0, type);
                    byte[] text = inflate(Arrays.copyOfRange(d, z + 2, d.length));
                    out.put(latin1(d, 0, z), latin1(text, 0, text.length));
                }
                case "iTXt" -> {
                    int z = indexOf(d, 0, type);
                    boolean compressed = d[z + 1] != 0;
                    int langEnd = indexOf(d, z + 3, type);
                    int tkeyEnd = indexOf(d, langEnd + 1, type);
                    byte[] text = Arrays.copyOfRange(d, tkeyEnd + 1, d.length);
                    if (compressed) {
                        text = inflate(text);
                    }
                    out.put(latin1(d, 0, z), new String(text, StandardCharsets.UTF_8));
                }
                case "IEND" -> {
                    return out;
                }
                default -> {}
            }
            pos = data + n + 4;
        }
        throw new IllegalArgumentException("PNG ends without IEND");
    }

    private static int indexOf(byte[] d, int from, String type) {
        for (int i = from; i < d.length; i++) {
            if (d[i] == 0) {
                return i;
            }
        }
        throw new IllegalArgumentException(type + " chunk lacks a NUL separator");
    }

    private static String latin1(byte[] d, int from, int to) {
        return new String(d, from, to - from, StandardCharsets.ISO_8859_1);
    }

    private static byte[] inflate(byte[] data) {
        Inflater inf = new Inflater();
        try {
            inf.setInput(data);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            while (!inf.finished()) {
                int k = inf.inflate(buf);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    throw new IllegalArgumentException("truncated compressed text chunk");
                }
                out.write(buf, 0, k);
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("bad compressed text chunk: " + e.getMessage(), e);
        } finally {
            inf.end();
        }
    }

    private static int readInt(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24)
                | ((b[off + 1] & 0xFF) << 16)
                | ((b[off + 2] & 0xFF) << 8)
                | (b[off + 3] & 0xFF);
    }
}
