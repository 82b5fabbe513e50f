package sdbatch.pipeline.models.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdbatch.pipeline.weights.RandomWeights;

/** The im2col + matrix-product convolution gives libtorch's {@code conv2d} result. */
class Conv2dLoweringTest {

    @ParameterizedTest(
            name = "in {1}, out {2}, kernel {3}, stride {4}, padding {5}, {6}x{7}, batch {0}")
    @CsvSource({
        "2, 5, 7, 3, 1, 1, 6, 6",
        "1, 5, 7, 3, 1, 1, 5, 9",
        "3, 4, 6, 3, 2, 1, 8, 8",
        "2, 4, 6, 3, 2, 1, 7, 5",
        "2, 4, 6, 3, 2, 0, 9, 9",
        "2, 6, 3, 1, 1, 0, 4, 4",
        "1, 6, 3, 1, 1, 0, 3, 5",
        "2, 6, 3, 1, 2, 0, 5, 5",
        "2, 3, 8, 3, 1, 0, 6, 7",
    })
    void loweredEqualsLibtorchConvolution(
            int batch, int in, int out, int kernel, int stride, int padding, int h, int w) {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2d conv =
                    new Conv2d(
                            new RandomWeights(11, m).prefix("c"), in, out, kernel, stride, padding);
            // The input in a manager of its own, as a request's arrays are.
            NDManager request = m.newSubManager();
            NDArray x = request.randomNormal(new Shape(batch, in, h, w));
            NDArray direct = conv.direct(x);
            NDArray lowered = conv.lowered(x);
            assertEquals(direct.getShape(), lowered.getShape());
            assertSame(request, lowered.getManager(), "freed with the input's manager");
            float[] want = direct.toFloatArray();
            float[] got = lowered.toFloatArray();
            assertArrayEquals(want, got, 2e-5f);
            // A consumer that needs the plain layout (reshape, elementwise) sees the same values.
            assertArrayEquals(
                    direct.add(1f).reshape(-1).toFloatArray(),
                    lowered.add(1f).reshape(-1).toFloatArray(),
                    2e-5f);
        }
    }

    @Test
    void loweredIsCheckedAgainstTheDefinition() {
        // One case written out in double precision, so the two paths cannot agree on a wrong
        // answer.
        int in = 2, out = 3, k = 3, h = 4, w = 5;
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(new RandomWeights(5, m).prefix("c"), in, out, k, 2, 1);
            float[] x = new float[in * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.cos(0.7 * i);
            }
            float[] wt = conv.weight().toFloatArray();
            float[] b = conv.bias().toFloatArray();
            float[] got = conv.lowered(m.create(x, new Shape(1, in, h, w))).toFloatArray();
            int ho = (h + 2 - k) / 2 + 1, wo = (w + 2 - k) / 2 + 1;
            assertEquals(out * ho * wo, got.length);
            for (int o = 0; o < out; o++) {
                for (int oy = 0; oy < ho; oy++) {
                    for (int ox = 0; ox < wo; ox++) {
                        double sum = b[o];
                        for (int c = 0; c < in; c++) {
                            for (int dy = 0; dy < k; dy++) {
                                for (int dx = 0; dx < k; dx++) {
                                    int y = oy * 2 - 1 + dy, xx = ox * 2 - 1 + dx;
                                    if (y >= 0 && y < h && xx >= 0 && xx < w) {
                                        sum +=
                                                wt[((o * in + c) * k + dy) * k + dx]
                                                        * x[(c * h + y) * w + xx];
                                    }
                                }
                            }
                        }
                        assertEquals(sum, got[(o * ho + oy) * wo + ox], 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void cpuChoosesLoweringOnlyForLargeWeightsAndFewOutputPositions() {
        assumeTrue(
                System.getProperty(
                                sdbatch.pipeline.compute.ComputeOptions.CONV_LOWERING_PROPERTY,
                                "auto")
                        .equals("auto"),
                "-D"
                        + sdbatch.pipeline.compute.ComputeOptions.CONV_LOWERING_PROPERTY
                        + " overrides the choice");
        try (NDManager m = NDManager.newBaseManager()) {
            // 384·384·9 = 1.3M weight elements: lowered only for few output positions.
            Conv2d conv = new Conv2d(new RandomWeights(1, m).prefix("c"), 384, 384, 3, 1, 1);
            assertTrue(conv.lowerOnCpu(m.zeros(new Shape(2, 384, 8, 8)))); // 128 positions
            assertTrue(conv.lowerOnCpu(m.zeros(new Shape(4, 384, 8, 8)))); // 256
            assertFalse(conv.lowerOnCpu(m.zeros(new Shape(2, 384, 16, 16)))); // 512, < 8M
            assertFalse(conv.lowerOnCpu(m.zeros(new Shape(2, 384, 32, 32))));
            // Stride 2 counts output positions: 16x16 in, 8x8 out.
            Conv2d down = new Conv2d(new RandomWeights(1, m).prefix("d"), 384, 384, 3, 2, 1);
            assertTrue(down.lowerOnCpu(m.zeros(new Shape(2, 384, 16, 16))));
            // Small weights (tiny models) stay on libtorch's path at any size.
            Conv2d small = new Conv2d(new RandomWeights(1, m).prefix("s"), 8, 8, 3, 1, 1);
            assertFalse(small.lowerOnCpu(m.zeros(new Shape(1, 8, 4, 4))));
            // 512 positions with a weight of at least 8M elements (SD 1.5's 1280 channels at
            // 16x16).
            Conv2d wide = new Conv2d(new RandomWeights(1, m).prefix("w"), 1024, 1024, 3, 1, 1);
            assertTrue(wide.lowerOnCpu(m.zeros(new Shape(2, 1024, 16, 16))));
            assertFalse(wide.lowerOnCpu(m.zeros(new Shape(2, 1024, 32, 32))));
            // 1×1 stride-1 convolutions: a product on the input as it lies, at any size.
            Conv2d pointwise = new Conv2d(new RandomWeights(1, m).prefix("p"), 8, 4, 1, 1, 0);
            assertTrue(pointwise.lowerOnCpu(m.zeros(new Shape(2, 8, 64, 64))));
            Conv2d strided = new Conv2d(new RandomWeights(1, m).prefix("q"), 8, 4, 1, 2, 0);
            assertFalse(strided.lowerOnCpu(m.zeros(new Shape(2, 8, 64, 64))));
        }
    }
}
