package sdbatch.pipeline.models.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.testing.FloatArrays;
import sdbatch.pipeline.testing.TestCompute;
import sdbatch.pipeline.weights.RandomWeights;

/** libtorch's group_norm kernel (+ SiLU) against the layer-norm formulation it replaces. */
class GroupNormTest {

    @AfterEach
    void restore() {
        TestCompute.reset();
    }

    @Test
    void kernelAndFusedSiluAgreeWithTheFormulaForFeatureMapsAndTokenViews() {
        try (NDManager m = NDManager.newBaseManager()) {
            GroupNorm norm = new GroupNorm(new RandomWeights(9, m).prefix("gn"), 4, 32, 1e-6);
            NDArray map = m.randomNormal(new Shape(2, 32, 6, 5)).mul(3).add(1);
            // Attention's group norm sees [B, C, L] as a transposed, non-contiguous view.
            NDArray tokens = m.randomNormal(new Shape(2, 30, 32)).transpose(0, 2, 1);
            for (NDArray x : new NDArray[] {map, tokens}) {
                NDArray formula = norm.formula(x);
                NDArray kernel = norm.forward(x);
                assertEquals(formula.getShape(), kernel.getShape());
                // Two reductions in different orders: the bound grows with the value, as in
                // ScaledDotProductAttentionTest (CPUs differ in how libtorch splits the sums).
                FloatArrays.assertAllClose(
                        formula.toFloatArray(), kernel.toFloatArray(), 2e-6, 4e-6);
                FloatArrays.assertAllClose(
                        Activations.silu(formula).toFloatArray(),
                        norm.forwardSilu(x).toFloatArray(),
                        2e-6,
                        4e-6);
                // SiLU is applied in place to the norm's own output, never to the input.
                assertArrayEquals(kernel.toFloatArray(), norm.forward(x).toFloatArray(), 0f);
            }
            assertNull(GroupNorm.fusedUnavailableReason());
            TestCompute.set(o -> o.withFusedGroupNorm(false));
            assertArrayEquals(
                    norm.formula(map).toFloatArray(), norm.forward(map).toFloatArray(), 0f);
        }
    }
}
