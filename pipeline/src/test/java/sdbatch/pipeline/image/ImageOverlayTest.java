package sdbatch.pipeline.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** diffusers' apply_overlay in PIL's 8-bit arithmetic. */
class ImageOverlayTest {
    @Test
    void blackKeepsTheInitPictureAndWhiteTheGeneratedOne() {
        RgbImage init = VaeImageProcessorTest.random(16, 8, 1);
        RgbImage generated = VaeImageProcessorTest.random(16, 8, 2);
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
        RgbImage init = VaeImageProcessorTest.random(32, 32, 3);
        RgbImage generated = VaeImageProcessorTest.random(32, 32, 4);
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
                                VaeImageProcessorTest.random(8, 8, 1),
                                VaeImageProcessorTest.random(16, 8, 2)));
    }
}
