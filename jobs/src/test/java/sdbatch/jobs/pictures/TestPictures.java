package sdbatch.jobs.pictures;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Pictures the picture tests write: encoded by ImageIO, with levels that vary per pixel. */
public final class TestPictures {
    private TestPictures() {}

    /** {@code image} as a {@code format} file's bytes. */
    public static byte[] encode(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out), format);
        return out.toByteArray();
    }

    /** A w×h RGB picture with levels that differ per pixel and channel. */
    public static BufferedImage rgbPicture(int w, int h, int seed) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = (x * 7 + y * 3 + seed) & 0xFF;
                int g = (x * 2 + y * 11 + 2 * seed) & 0xFF;
                int b = (x * 13 + y * 5 + 3 * seed) & 0xFF;
                image.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return image;
    }
}
