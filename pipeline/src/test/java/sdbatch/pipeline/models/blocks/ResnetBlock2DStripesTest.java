package sdbatch.pipeline.models.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.models.layers.StripedConvolution;
import sdbatch.pipeline.weights.RandomWeights;

/**
 * A resnet over an activation above the strip limit (the VAE decoder's last levels) writes its
 * second half and residual into its first half's output strip by strip, one strip late: the result
 * is the whole-activation resnet's, with and without {@code conv_shortcut}, with an output scale,
 * for strips of one row (every row an edge), a few rows, and one not dividing the height.
 */
class ResnetBlock2DStripesTest {

    @ParameterizedTest(name = "{0} -> {1} channels, {2}x{3}, strips of {4} rows, scale {5}")
    @CsvSource({
        "8, 8, 9, 7, 1, 1",
        "8, 4, 12, 5, 4, 1",
        "4, 8, 10, 6, 3, 2",
        "8, 8, 11, 4, 5, 0.5",
        "8, 4, 7, 3, 3, 1",
    })
    void stripedResnetEqualsTheWholeOne(
            int in, int out, int h, int w, int rows, double outputScale) {
        try (NDManager m = NDManager.newBaseManager()) {
            ResnetBlock2D resnet =
                    new ResnetBlock2D(new RandomWeights(11, m), in, out, 0, 4, 1e-6, outputScale);
            // Off-centre values, so that the group norms' means matter.
            NDArray x = m.randomNormal(new Shape(1, in, h, w)).mul(2).add(0.7f);
            float[] whole = resnet.forward(x, null).toFloatArray();
            // A strip is about half the limit: strips of `rows` rows over the narrower of the
            // two activations, fewer over the wider one.
            long limit = 2L * rows * Math.min(in, out) * w;
            try (ComputeOptions.Scope s =
                    ComputeOptions.defaults().withStripElements(limit).enter()) {
                // Both halves run in strips (the second one written into the first's output).
                assertTrue(StripedConvolution.applies(resnet.conv1, x.getShape()));
                assertTrue(StripedConvolution.applies(resnet.conv2, new Shape(1, out, h, w)));
                NDArray striped = resnet.forward(x, null);
                assertEquals(new Shape(1, out, h, w), striped.getShape());
                assertArrayEquals(whole, striped.toFloatArray(), 3e-5f);
            }
        }
    }
}
