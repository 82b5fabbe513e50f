package sdbatch.pipeline.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class ImagePostprocessorTest {

    // Expected levels computed with numpy 2.4 by diffusers' own expressions, float32 input:
    //   ((xs * np.float32(0.5) + np.float32(0.5)).clip(0, 1) * 255).round().astype("uint8")
    private static final float[] XS = {
        -1.5f, -1f, -0.999f, -0.5f, 0f, 0.25f, 0.5f, 0.999f, 1f, 1.5f, 0.0039215689f, -0.3333333f
    };
    private static final int[] LEVELS = {0, 0, 0, 64, 128, 159, 191, 255, 255, 255, 128, 85};

    @Test
    void matchesNumpyLevels() {
        for (int i = 0; i < XS.length; i++) {
            assertEquals(LEVELS[i], ImagePostprocessor.toLevel(XS[i]), "x = " + XS[i]);
        }
    }

    @Test
    void roundsHalvesToEvenLikeNumpy() {
        // (x*0.5+0.5)*255 is exactly 64.5 in float32 for this x (found and checked with numpy):
        // numpy rounds to 64 (half to even), where round-half-up would give 65.
        assertEquals(64, ImagePostprocessor.toLevel(-0x1.f9f9fap-2f));
        // ... and exactly 65.5 here: 66 either way.
        assertEquals(66, ImagePostprocessor.toLevel(-0x1.f1f1f2p-2f));
        // Every exact half in float32 goes to the even neighbour.
        int halves = 0;
        for (int k = 0; k < 255; k++) {
            float v = (float) ((k + 0.5) / 255.0);
            float x = (float) ((v - 0.5) * 2.0);
            for (int i = -4; i <= 4; i++) {
                float xx = x + i * Math.ulp(x);
                float s = (xx * 0.5f + 0.5f) * 255f;
                if (s == k + 0.5f) {
                    halves++;
                    assertEquals(k % 2 == 0 ? k : k + 1, ImagePostprocessor.toLevel(xx), "x=" + xx);
                }
            }
        }
        assertTrue(halves > 100, "found only " + halves + " exact halves");
    }

    @Test
    void convertsChwToInterleavedRgb() {
        // 3x1x2: R = (-1, 1), G = (0, 0.5), B = (1, -1)
        float[] chw = {-1f, 1f, 0f, 0.5f, 1f, -1f};
        RgbImage img = ImagePostprocessor.toRgb8(chw, 0, 1, 2);
        assertEquals(0, img.level(0, 0, 0));
        assertEquals(128, img.level(0, 0, 1));
        assertEquals(255, img.level(0, 0, 2));
        assertEquals(255, img.level(1, 0, 0));
        assertEquals(191, img.level(1, 0, 1));
        assertEquals(0, img.level(1, 0, 2));
    }

    @Test
    void nonFiniteIsAnErrorNamingThePosition() {
        float[] bchw = new float[2 * 3 * 2 * 2];
        bchw[12 + 4 + 3] = Float.NaN; // image 1, channel 1, y 1, x 1
        ImagePostprocessor.toRgb8(bchw, 0, 2, 2); // image 0 is fine
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () -> ImagePostprocessor.toRgb8(bchw, 1, 2, 2));
        assertTrue(
                e.getMessage()
                        .contains("image 1 has the non-finite value NaN at channel 1, y 1, x 1"),
                e.getMessage());
        bchw[19] = Float.POSITIVE_INFINITY;
        assertThrows(IllegalStateException.class, () -> ImagePostprocessor.toRgb8(bchw, 1, 2, 2));
    }

    @Test
    void postprocessesAnNDArrayBatch() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] data = new float[2 * 3 * 2 * 2];
            for (int i = 0; i < data.length; i++) {
                data[i] = -1f + 2f * i / (data.length - 1);
            }
            NDArray a = m.create(data, new Shape(2, 3, 2, 2));
            List<RgbImage> imgs = ImagePostprocessor.postprocess(a);
            assertEquals(2, imgs.size());
            assertEquals(ImagePostprocessor.toRgb8(data, 1, 2, 2), imgs.get(1));
            a.set(new ai.djl.ndarray.index.NDIndex("1,2,0,0"), Float.NaN);
            assertThrows(IllegalStateException.class, () -> ImagePostprocessor.postprocess(a));
        }
    }
}
