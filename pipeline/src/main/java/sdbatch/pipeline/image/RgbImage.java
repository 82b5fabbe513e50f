package sdbatch.pipeline.image;

import java.util.Arrays;

/**
 * An 8-bit RGB image, row-major, channels interleaved ({@code H×W×3}, as PIL and numpy hold it).
 *
 * @param width width in pixels
 * @param height height in pixels
 * @param rgb {@code height * width * 3} bytes, unsigned levels 0..255
 */
public record RgbImage(int width, int height, byte[] rgb) {
    /** Checks the size. */
    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException(
                    "image size " + width + "x" + height + " is not positive");
        }
        if (rgb.length != (long) width * height * 3) {
            throw new IllegalArgumentException(
                    "rgb has "
                            + rgb.length
                            + " bytes, a "
                            + width
                            + "x"
                            + height
                            + " RGB image needs "
                            + (long) width * height * 3);
        }
    }

    /** The level 0..255 of channel {@code c} at ({@code x}, {@code y}). */
    public int level(int x, int y, int c) {
        return rgb[(y * width + x) * 3 + c] & 0xFF;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RgbImage r
                && r.width == width
                && r.height == height
                && Arrays.equals(r.rgb, rgb);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(rgb);
    }

    @Override
    public String toString() {
        return "RgbImage[" + width + "x" + height + "]";
    }
}
