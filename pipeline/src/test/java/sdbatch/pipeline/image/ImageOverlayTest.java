package sdbatch.pipeline.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** diffusers' apply_overlay in PIL's 8-bit arithmetic. */
class ImageOverlayTest {
    static RgbImage random(int w, int h, long seed) {
        byte[] rgb = new byte[w * h * 3];
        new Random(seed).nextBytes(rgb);
        return new RgbImage(w, h, rgb);
    }

    @Test
    void blackKeepsTheInitPictureAndWhiteTheGeneratedOne() {
        RgbImage init = random(16, 8, 1);
        RgbImage generated = random(16, 8, 2);
        assertArrayEquals(
                init.rgb(),
                ImageOverlay.apply(InpaintMaskTest.filled(16, 8, 0, 0, 0), init, generated).rgb());
        assertArrayEquals(
                generated.rgb(),
                ImageOverlay.apply(InpaintMaskTest.filled(16, 8, 255, 255, 255), init, generated)
                        .rgb());
    }

    /**
     * A gray mask blends: init × a/255 + generated × (1 − a/255), a = 255 − luma, within a level.
     */
    @Test
    void softEdgesBlendWithinTwoLevelsOfTheExactMix() {
        RgbImage init = random(32, 32, 3);
        RgbImage generated = random(32, 32, 4);
        for (int level = 0; level < 256; level += 17) {
            RgbImage mask = InpaintMaskTest.filled(32, 32, level, level, level);
            byte[] out = ImageOverlay.apply(mask, init, generated).rgb();
            double a = (255 - level) / 255.0;
            for (int k = 0; k < out.length; k++) {
                double exact = (init.rgb()[k] & 0xFF) * a + (generated.rgb()[k] & 0xFF) * (1 - a);
                assertTrue(
                        Math.abs((out[k] & 0xFF) - exact) <= 2.0,
                        "level " + level + " at " + k + ": " + (out[k] & 0xFF) + " vs " + exact);
            }
        }
    }

    @Test
    void sizesMustAgree() {
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        ImageOverlay.apply(
                                InpaintMaskTest.filled(8, 8, 0, 0, 0),
                                random(8, 8, 1),
                                random(16, 8, 2)));
    }
}
