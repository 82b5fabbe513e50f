package sdbatch.pipeline.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link VaeImageProcessor}: PIL's Lanczos resize and diffusers' normalisation. */
class VaeImageProcessorTest {
    static RgbImage random(int w, int h, long seed) {
        byte[] rgb = new byte[w * h * 3];
        new Random(seed).nextBytes(rgb);
        return new RgbImage(w, h, rgb);
    }

    static RgbImage constant(int w, int h, int r, int g, int b) {
        byte[] rgb = new byte[w * h * 3];
        for (int p = 0; p < w * h; p++) {
            rgb[p * 3] = (byte) r;
            rgb[p * 3 + 1] = (byte) g;
            rgb[p * 3 + 2] = (byte) b;
        }
        return new RgbImage(w, h, rgb);
    }

    @Test
    void theRightSizeIsThePictureItself() {
        RgbImage img = random(24, 16, 1);
        assertSame(img, VaeImageProcessor.resize(img, 24, 16));
    }

    /**
     * Lanczos weights are normalised to sum to one (in 22-bit fixed point), so a flat picture stays
     * flat at every level, up or down, in one direction or both — including the extremes 0 and 255,
     * where the filter's negative lobes would show as clipping if the weights were off.
     */
    @Test
    void aFlatPictureStaysFlatAtAnySize() {
        int[][] sizes = {{64, 64}, {37, 64}, {64, 23}, {200, 150}, {7, 5}, {1, 1}, {128, 9}};
        for (int[] colour : new int[][] {{0, 128, 255}, {255, 255, 255}, {1, 254, 77}}) {
            RgbImage flat = constant(48, 40, colour[0], colour[1], colour[2]);
            for (int[] s : sizes) {
                RgbImage out = VaeImageProcessor.resize(flat, s[0], s[1]);
                assertEquals(s[0], out.width());
                assertEquals(s[1], out.height());
                for (int y = 0; y < s[1]; y++) {
                    for (int x = 0; x < s[0]; x++) {
                        for (int c = 0; c < 3; c++) {
                            assertEquals(
                                    colour[c],
                                    out.level(x, y, c),
                                    "to " + s[0] + "x" + s[1] + " at " + x + "," + y);
                        }
                    }
                }
            }
        }
    }

    /**
     * The passes are separable: a picture whose rows are all the same keeps its rows the same when
     * only its height changes, and each column is the same when only the width changes.
     */
    @Test
    void aOneDirectionResizeLeavesTheOtherDirectionAlone() {
        int w = 32;
        int h = 20;
        byte[] rgb = new byte[w * h * 3];
        Random r = new Random(5);
        byte[] row = new byte[w * 3];
        r.nextBytes(row);
        for (int y = 0; y < h; y++) {
            System.arraycopy(row, 0, rgb, y * w * 3, w * 3);
        }
        RgbImage rows = new RgbImage(w, h, rgb);
        RgbImage taller = VaeImageProcessor.resize(rows, w, 45);
        for (int y = 0; y < 45; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(rows.level(x, 0, c), taller.level(x, y, c), x + "," + y);
                }
            }
        }
        RgbImage narrower = VaeImageProcessor.resize(rows, 13, h);
        for (int y = 1; y < h; y++) {
            for (int x = 0; x < 13; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(narrower.level(x, 0, c), narrower.level(x, y, c), x + "," + y);
                }
            }
        }
    }

    /** Halving with Lanczos stays within the local range up to its overshoot, never wraps. */
    @Test
    void downscalingAnEdgeOvershootsButClipsToTheLevelRange() {
        int w = 40;
        int h = 8;
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    rgb[(y * w + x) * 3 + c] = (byte) (x < w / 2 ? 10 : 245);
                }
            }
        }
        RgbImage out = VaeImageProcessor.resize(new RgbImage(w, h, rgb), 20, 4);
        // far from the edge the flat parts stay flat; next to it the lobes ring past 10 and 245
        assertEquals(10, out.level(2, 1, 0));
        assertEquals(245, out.level(17, 1, 0));
        int min = 255;
        int max = 0;
        for (int x = 0; x < 20; x++) {
            min = Math.min(min, out.level(x, 1, 0));
            max = Math.max(max, out.level(x, 1, 0));
        }
        org.junit.jupiter.api.Assertions.assertTrue(min < 10 && max > 245, min + ".." + max);
    }

    @Test
    void preprocessScalesLevelsToMinusOneOneChannelsFirst() {
        RgbImage img = new RgbImage(2, 1, new byte[] {0, (byte) 255, (byte) 51, 102, 0, 0});
        float[] out = new float[1 + 3 * 2];
        VaeImageProcessor.preprocess(img, 2, 1, out, 1);
        // numpy float32: level / 255.0, then 2 * x - 1
        float[] want = new float[7];
        int[] levels = {0, 102, 255, 0, 51, 0};
        for (int i = 0; i < 6; i++) {
            want[1 + i] = 2.0f * (levels[i] / 255.0f) - 1.0f;
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(want, out);
        assertEquals(-1f, out[1]);
        assertEquals(1f, out[3]);
    }

    @Test
    void preprocessRefusesTooSmallAnOutput() {
        RgbImage img = random(4, 4, 2);
        assertThrows(
                IllegalArgumentException.class,
                () -> VaeImageProcessor.preprocess(img, 4, 4, new float[47], 0));
    }
}
