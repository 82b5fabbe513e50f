package sdbatch.jobs.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Compares a generated PNG with a golden image stored as RGB levels (HWC, one long a level). */
public final class GoldenPixels {
    private GoldenPixels() {}

    /**
     * The largest level difference between {@code png} and the {@code w} x {@code h} RGB image at
     * {@code offset} in {@code reference}, after checking the PNG's size.
     */
    public static int maxLevels(byte[] png, long[] reference, int offset, int w, int h, String what)
            throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(w, image.getWidth(), what + ": width");
        assertEquals(h, image.getHeight(), what + ": height");
        int max = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                int base = offset + (y * w + x) * 3;
                for (int ch = 0; ch < 3; ch++) {
                    int level = (rgb >> (16 - 8 * ch)) & 0xFF;
                    max = Math.max(max, Math.abs(level - (int) reference[base + ch]));
                }
            }
        }
        return max;
    }
}
