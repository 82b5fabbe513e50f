package sdbatch.pipeline.image;

import java.io.ByteArrayOutputStream;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Encodes an {@link RgbImage} as PNG with text chunks, deterministically: the same pixels and texts
 * give byte-identical files in any JVM of the same build (fixed chunk order, fixed filter choice,
 * fixed zlib level; no timestamps or other ambient data).
 *
 * <p>Layout: signature, {@code IHDR} (8-bit RGB, no interlace), one text chunk per entry in map
 * order, one {@code IDAT}, {@code IEND}. Text chunks follow PIL's {@code PngInfo.add_text}, which
 * is what AUTOMATIC1111 uses to write {@code parameters}: a value that Latin-1 can encode goes in a
 * {@code tEXt} chunk (PNG text is Latin-1), any other value in an uncompressed {@code iTXt} chunk
 * (UTF-8, empty language and translated keyword), so prompts in any script survive.
 *
 * <p>Rows are filtered with libpng's heuristic (per row, the filter with the smallest sum of
 * absolute signed bytes) and deflated at level 6 (PIL's default).
 */
public final class PngWriter {
    private PngWriter() {}

    /** The A1111 infotext key. */
    public static final String PARAMETERS = "parameters";

    /** Our key for the full request as JSON. */
    public static final String SDBATCH = "sdbatch";

    private static final byte[] SIGNATURE = {(byte) 137, 80, 78, 71, 13, 10, 26, 10};
    private static final int LEVEL = 6;

    /**
     * A PNG with A1111's {@code parameters} chunk and our {@code sdbatch} chunk.
     *
     * @param parameters the A1111 infotext ({@code A1111Parameters.toInfotext()})
     * @param requestJson the request as JSON ({@code GenerationRequest.toJson()})
     */
    public static byte[] encode(RgbImage image, String parameters, String requestJson) {
        Map<String, String> text = new LinkedHashMap<>();
        text.put(PARAMETERS, parameters);
        text.put(SDBATCH, requestJson);
        return encode(image, text);
    }

    /**
     * A PNG with the given text chunks, in map order.
     *
     * @param text keyword (1-79 Latin-1 printable characters) → value (no U+0000)
     * @throws IllegalArgumentException for a bad keyword or a value containing U+0000
     */
    public static byte[] encode(RgbImage image, Map<String, String> text) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(image.rgb().length / 2 + 1024);
        out.writeBytes(SIGNATURE);

        byte[] ihdr = new byte[13];
        putInt(ihdr, 0, image.width());
        putInt(ihdr, 4, image.height());
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type: truecolour RGB
        ihdr[10] = 0; // deflate
        ihdr[11] = 0; // adaptive filtering
        ihdr[12] = 0; // no interlace
        chunk(out, "IHDR", ihdr);

        for (Map.Entry<String, String> e : text.entrySet()) {
            textChunk(out, e.getKey(), e.getValue());
        }

        chunk(out, "IDAT", deflate(filter(image)));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    /**
     * Whether {@code value} goes in a {@code tEXt} chunk (Latin-1 encodable) or needs {@code iTXt}.
     */
    public static boolean fitsLatin1(String value) {
        CharsetEncoder enc = StandardCharsets.ISO_8859_1.newEncoder();
        return enc.canEncode(value);
    }

    private static void textChunk(ByteArrayOutputStream out, String key, String value) {
        if (key.isEmpty()
                || key.length() > 79
                || !fitsLatin1(key)
                || key.startsWith(" ")
                || key.endsWith(" ")
                || key.chars().anyMatch(c -> c < 32 || (c > 126 && c < 161))) {
            throw new IllegalArgumentException(
                    "PNG text keyword '" + key + "' must be 1-79 printable Latin-1 characters");
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(
                    "PNG text '" + key + "' contains U+0000, which a text chunk cannot hold");
        }
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        data.writeBytes(key.getBytes(StandardCharsets.ISO_8859_1));
        data.write(0);
        if (fitsLatin1(value)) {
            data.writeBytes(value.getBytes(StandardCharsets.ISO_8859_1));
            chunk(out, "tEXt", data.toByteArray());
        } else {
            data.write(0); // compression flag: uncompressed
            data.write(0); // compression method
            data.write(0); // empty language tag
            data.write(0); // empty translated keyword
            data.writeBytes(value.getBytes(StandardCharsets.UTF_8));
            chunk(out, "iTXt", data.toByteArray());
        }
    }

    /** Filtered scanlines: per row a filter byte then the filtered bytes (PNG spec section 9). */
    private static byte[] filter(RgbImage image) {
        int stride = image.width() * 3;
        int h = image.height();
        byte[] rgb = image.rgb();
        byte[] out = new byte[(stride + 1) * h];
        byte[][] cand = new byte[5][stride];
        for (int y = 0; y < h; y++) {
            int row = y * stride;
            int prev = row - stride;
            long best = Long.MAX_VALUE;
            int bestType = 0;
            for (int type = 0; type < 5; type++) {
                byte[] c = cand[type];
                long sum = 0;
                for (int i = 0; i < stride; i++) {
                    int x = rgb[row + i] & 0xFF;
                    int a = i >= 3 ? rgb[row + i - 3] & 0xFF : 0;
                    int b = y > 0 ? rgb[prev + i] & 0xFF : 0;
                    int cc = (i >= 3 && y > 0) ? rgb[prev + i - 3] & 0xFF : 0;
                    int pred =
                            switch (type) {
                                case 0 -> 0;
                                case 1 -> a;
                                case 2 -> b;
                                case 3 -> (a + b) >>> 1;
                                default -> paeth(a, b, cc);
                            };
                    byte f = (byte) (x - pred);
                    c[i] = f;
                    sum += Math.abs((int) f);
                }
                if (sum < best) {
                    best = sum;
                    bestType = type;
                }
            }
            int o = y * (stride + 1);
            out[o] = (byte) bestType;
            System.arraycopy(cand[bestType], 0, out, o + 1, stride);
        }
        return out;
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        if (pa <= pb && pa <= pc) {
            return a;
        }
        return pb <= pc ? b : c;
    }

    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(LEVEL);
        try {
            d.setInput(data);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(data.length / 2 + 64);
            byte[] buf = new byte[1 << 16];
            while (!d.finished()) {
                int n = d.deflate(buf);
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } finally {
            d.end();
        }
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] len = new byte[4];
        putInt(len, 0, data.length);
        out.writeBytes(len);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        byte[] c = new byte[4];
        putInt(c, 0, (int) crc.getValue());
        out.writeBytes(c);
    }

    private static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }
}
