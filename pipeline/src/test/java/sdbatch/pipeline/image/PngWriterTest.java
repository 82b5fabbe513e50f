package sdbatch.pipeline.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.metadata.A1111Parameters;

class PngWriterTest {

    static RgbImage randomImage(int w, int h, long seed) {
        byte[] rgb = new byte[w * h * 3];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < rgb.length; i++) {
            // smooth gradient plus noise, so every filter type gets chosen somewhere
            rgb[i] =
                    (byte)
                            ((i / 3 % w) * 3
                                    + (i % 3) * 40
                                    + (i / (3 * w) % 2 == 0 ? r.nextInt(8) : 0));
        }
        return new RgbImage(w, h, rgb);
    }

    @Test
    void imageIoDecodesTheSamePixels() throws Exception {
        RgbImage img = randomImage(37, 23, 1);
        byte[] png = PngWriter.encode(img, Map.of("parameters", "x"));
        BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(37, back.getWidth());
        assertEquals(23, back.getHeight());
        for (int y = 0; y < 23; y++) {
            for (int x = 0; x < 37; x++) {
                int argb = back.getRGB(x, y);
                assertEquals(img.level(x, y, 0), (argb >> 16) & 0xFF);
                assertEquals(img.level(x, y, 1), (argb >> 8) & 0xFF);
                assertEquals(img.level(x, y, 2), argb & 0xFF);
            }
        }
    }

    @Test
    void bytesAreDeterministic() {
        RgbImage img = randomImage(64, 48, 7);
        Map<String, String> text = new LinkedHashMap<>();
        text.put("parameters", "a cat\nSteps: 20");
        text.put("sdbatch", "{\"prompt\":\"\u732b\"}");
        byte[] a = PngWriter.encode(img, text);
        byte[] b =
                PngWriter.encode(
                        new RgbImage(64, 48, img.rgb().clone()), new LinkedHashMap<>(text));
        assertArrayEquals(a, b);
    }

    @Test
    void textChunksParseBackLatin1AsTextOthersAsItxt() throws Exception {
        GenerationRequest r =
                new GenerationRequest(
                        "\u05e9\u05dc\u05d5\u05dd, \ud83d\ude00\nline 2",
                        "caf\u00e9",
                        5,
                        20,
                        7.5,
                        "euler_a",
                        "{}",
                        64,
                        64,
                        0,
                        1,
                        0,
                        "row 0",
                        0,
                        Map.of(),
                        null,
                        null,
                        null);
        String params = A1111Parameters.of(r, "tiny", "abcdef0123456789").toInfotext();
        byte[] png = PngWriter.encode(randomImage(8, 8, 3), params, r.toJson());
        Map<String, String> text = PngText.read(png);
        assertEquals(params, text.get("parameters"));
        assertEquals(r, GenerationRequest.fromJson(text.get("sdbatch")));
        A1111Parameters parsed = A1111Parameters.parse(text.get("parameters"));
        assertEquals(r.prompt(), parsed.prompt());
        assertEquals(r.negativePrompt(), parsed.negativePrompt());
        // non-Latin-1 text went to iTXt; Latin-1 text to tEXt (as PIL's add_text does)
        String raw = new String(png, StandardCharsets.ISO_8859_1);
        assertEquals(true, raw.contains("iTXtparameters\0\0\0\0\0"));
        byte[] latin = PngWriter.encode(randomImage(8, 8, 3), Map.of("parameters", "caf\u00e9"));
        assertEquals(
                true,
                new String(latin, StandardCharsets.ISO_8859_1)
                        .contains("tEXtparameters\0caf\u00e9"));
        assertEquals("caf\u00e9", PngText.read(latin).get("parameters"));
        // ImageIO reads the file with both chunk kinds
        assertEquals(8, ImageIO.read(new ByteArrayInputStream(png)).getWidth());
    }

    @Test
    void badTextAndCorruptionAreErrors() {
        RgbImage img = randomImage(4, 4, 0);
        assertThrows(
                IllegalArgumentException.class, () -> PngWriter.encode(img, Map.of("k", "a\0b")));
        assertThrows(IllegalArgumentException.class, () -> PngWriter.encode(img, Map.of("", "v")));
        byte[] png = PngWriter.encode(img, Map.of("k", "v"));
        png[40] ^= 1;
        assertThrows(IllegalArgumentException.class, () -> PngText.read(png));
    }
}
