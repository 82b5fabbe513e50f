package sdbatch.pipeline.models.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.weights.RandomWeights;

/**
 * A convolution in strips of rows (with its group norm and SiLU, or its ×2 upsampling) gives the
 * whole-activation result: strips of 1 row (every row a strip edge), of a few rows, and one not
 * dividing the height.
 */
class StripedConvolutionTest {

    @ParameterizedTest(name = "batch {0}, {1} channels in {2} groups, {3}x{4}, strips of {5} rows")
    @CsvSource({
        "1, 8, 4, 9, 7, 1",
        "2, 8, 2, 12, 5, 4",
        "1, 6, 3, 10, 10, 3",
        "2, 4, 4, 9, 6, 4",
    })
    void normSiluConvInStripsEqualsTheWholeActivation(
            int batch, int channels, int groups, int h, int w, int rows) {
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights weights = new RandomWeights(7, m);
            GroupNorm norm = new GroupNorm(weights.prefix("norm"), groups, channels, 1e-6);
            Conv2d conv = new Conv2d(weights.prefix("conv"), channels, 5, 3, 1, 1);
            // Off-centre values, so that the statistics' mean matters.
            NDArray x = m.randomNormal(new Shape(batch, channels, h, w)).mul(3).add(1.5f);
            float[] whole = conv.forward(norm.forwardSilu(x)).toFloatArray();
            // A strip is about half the strip limit: rows * (batch * channels * w) elements.
            long limit = 2L * rows * batch * channels * w;
            try (ComputeOptions.Scope s =
                    ComputeOptions.defaults().withStripElements(limit).enter()) {
                assertTrue(StripedConvolution.applies(conv, x.getShape()));
                assertEquals(rows, StripedConvolution.stripRows(x.getShape()));
                NDArray striped = StripedConvolution.normSiluConv(norm, conv, x);
                assertEquals(new Shape(batch, 5, h, w), striped.getShape());
                assertArrayEquals(whole, striped.toFloatArray(), 2e-5f);
            }
        }
    }

    @ParameterizedTest(name = "strips of {0} rows")
    @CsvSource({"1", "2", "3", "7", "100"})
    void aConvolutionOverRowsMadeOnDemandEqualsTheWholeOne(int rows) {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(new RandomWeights(3, m).prefix("conv"), 4, 6, 3, 1, 1);
            NDArray x = m.randomNormal(new Shape(2, 4, 11, 6));
            float[] whole = conv.forward(x).toFloatArray();
            NDArray striped =
                    StripedConvolution.convolve(
                            conv,
                            x.getShape(),
                            x.getDataType(),
                            m,
                            rows,
                            (lo, hi) ->
                                    x.get(new ai.djl.ndarray.index.NDIndex(":, :, {}:{}", lo, hi)));
            assertArrayEquals(whole, striped.toFloatArray(), 2e-5f);
        }
    }

    @ParameterizedTest(name = "limit {0}")
    @CsvSource({"1000000", "33554432"})
    void smallActivationsAndOtherKernelsAreNotStriped(long limit) {
        try (NDManager m = NDManager.newBaseManager();
                ComputeOptions.Scope s =
                        ComputeOptions.defaults().withStripElements(limit).enter()) {
            Conv2d threeByThree = new Conv2d(new RandomWeights(1, m).prefix("a"), 4, 4, 3, 1, 1);
            Conv2d strided = new Conv2d(new RandomWeights(1, m).prefix("b"), 4, 4, 3, 2, 1);
            Conv2d oneByOne = new Conv2d(new RandomWeights(1, m).prefix("c"), 4, 4, 1, 1, 0);
            Shape small = new Shape(1, 4, 64, 64);
            Shape large = new Shape(1, 4, 4096, 4096);
            assertFalse(StripedConvolution.applies(threeByThree, small));
            assertTrue(StripedConvolution.applies(threeByThree, large));
            assertFalse(StripedConvolution.applies(strided, large));
            assertFalse(StripedConvolution.applies(oneByOne, large));
        }
    }
}
