package sdbatch.jobs.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
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

    /**
     * The largest level difference over one golden case's images (its {@code name}, {@code width},
     * {@code height}), checked against the case's {@code image_max_levels}.
     */
    public static final class CaseCheck {
        private final String name;
        private final int width;
        private final int height;
        private final int allowed;
        private int max;

        /** A check of case {@code c}, before any image. */
        public CaseCheck(JsonObject c) {
            name = c.get("name").getAsString();
            width = c.get("width").getAsInt();
            height = c.get("height").getAsInt();
            allowed = c.get("image_max_levels").getAsInt();
        }

        /** Compares {@code png} with the case's image at {@code offset} in {@code reference}. */
        public void add(byte[] png, long[] reference, int offset) throws IOException {
            max = Math.max(max, maxLevels(png, reference, offset, width, height, name));
        }

        /**
         * Prints the largest difference ({@code how}: how the case ran) and asserts it is at most
         * the case's {@code image_max_levels}.
         */
        public void assertWithin(String how) {
            System.out.printf(
                    "%s (%s): image max %d levels (allowed %d)%n", name, how, max, allowed);
            assertTrue(max <= allowed, name + ": " + max + " levels > " + allowed);
        }
    }
}
