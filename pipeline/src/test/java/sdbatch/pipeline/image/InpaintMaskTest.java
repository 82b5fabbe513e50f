package sdbatch.pipeline.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * diffusers' mask processor: PIL's luma, the 0.5 threshold, the Lanczos resize, nearest to latents.
 */
class InpaintMaskTest {
    static RgbImage filled(int w, int h, int r, int g, int b) {
        return VaeImageProcessorTest.constant(w, h, r, g, b);
    }

    @Test
    void lumaIsPilsConvertL() {
        // PIL: Image.new("RGB", (1, 1), c).convert("L") gives 76, 150 and 29 for red, green, blue
        assertEquals(76, InpaintMask.luma(255, 0, 0));
        assertEquals(150, InpaintMask.luma(0, 255, 0));
        assertEquals(29, InpaintMask.luma(0, 0, 255));
        for (int v = 0; v < 256; v++) {
            assertEquals(v, InpaintMask.luma(v, v, v), "a gray level stays itself");
        }
    }

    @Test
    void binarizesAtHalfOfTheLumaLevels() {
        assertTrue(InpaintMask.of(filled(8, 8, 127, 127, 127), 8, 8).repaintsNothing());
        assertFalse(InpaintMask.of(filled(8, 8, 128, 128, 128), 8, 8).repaintsNothing());
        // pure red is luma 76 (kept), pure green 150 (repainted): the luma decides, not a channel
        assertTrue(InpaintMask.of(filled(8, 8, 255, 0, 0), 8, 8).repaintsNothing());
        float[] green = InpaintMask.of(filled(8, 8, 0, 255, 0), 8, 8).repaint();
        for (float v : green) {
            assertEquals(1f, v);
        }
    }

    @Test
    void resizesWithLanczosBeforeTheThreshold() {
        // one white pixel in 16x16: kept at its size, gone once Lanczos averages it into 4x4
        byte[] rgb = new byte[16 * 16 * 3];
        Arrays.fill(rgb, (5 * 16 + 5) * 3, (5 * 16 + 5) * 3 + 3, (byte) 255);
        RgbImage dot = new RgbImage(16, 16, rgb);
        assertFalse(InpaintMask.of(dot, 16, 16).repaintsNothing());
        assertTrue(InpaintMask.of(dot, 4, 4).repaintsNothing(), "a dot too thin to survive");
    }

    @Test
    void latentSizeTakesTheNearestPixelNotAnAverage() {
        // white in every odd column: torch's nearest picks columns 0, 2, 4, ... at half size
        byte[] rgb = new byte[8 * 8 * 3];
        for (int p = 0; p < 64; p++) {
            if (p % 2 == 1) {
                Arrays.fill(rgb, p * 3, p * 3 + 3, (byte) 255);
            }
        }
        InpaintMask odd = InpaintMask.of(new RgbImage(8, 8, rgb), 8, 8);
        assertFalse(odd.repaintsNothing());
        assertEquals(32, (int) sum(odd.repaint()));
        assertEquals(0f, sum(odd.toLatentSize(4, 4)), "odd columns vanish at half size");
        InpaintMask even = InpaintMask.of(filled(8, 8, 255, 255, 255), 8, 8);
        assertEquals(16f, sum(even.toLatentSize(4, 4)));
        // a non-integral ratio: 8 -> 3 reads columns floor(i * 8/3) = 0, 2, 5
        float[] three = odd.toLatentSize(3, 1);
        assertEquals(0f, three[0]);
        assertEquals(0f, three[1]);
        assertEquals(1f, three[2]);
    }

    private static float sum(float[] a) {
        float s = 0;
        for (float v : a) {
            s += v;
        }
        return s;
    }
}
