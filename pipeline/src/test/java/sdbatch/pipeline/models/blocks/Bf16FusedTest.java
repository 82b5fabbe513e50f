package sdbatch.pipeline.models.blocks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sdbatch.pipeline.weights.RandomWeights;

/** The transformer's self-attention and GEGLU feed-forward, each as one bfloat16 call. */
class Bf16FusedTest {

    @AfterEach
    void off() {
        Bf16Compute.setEnabled(false);
        Bf16Compute.setFused(true);
        Bf16Compute.setAttention(true);
    }

    private static double relativeError(NDArray want, NDArray got) {
        assertEquals(want.getShape(), got.getShape());
        assertEquals(DataType.FLOAT32, got.getDataType());
        return (double) want.sub(got).abs().max().getFloat() / want.abs().max().getFloat();
    }

    // 300 tokens: attention in bfloat16 (>= 256 keys); 40: float32 attention on bfloat16 q, k, v.
    @ParameterizedTest
    @ValueSource(ints = {300, 40})
    void selfAttentionAgreesWithTheLayerByLayerPathAndFloat32(int tokens) {
        try (NDManager m = NDManager.newBaseManager()) {
            Attention attn =
                    new Attention(
                            new RandomWeights(21, m).prefix("attn1"),
                            64,
                            64,
                            4,
                            16,
                            false,
                            false,
                            0,
                            1e-6,
                            false,
                            1);
            NDArray x = m.randomNormal(new Shape(2, tokens, 64));
            NDArray want = attn.forward(x, null);
            Bf16Compute.setEnabled(true);
            Bf16Compute.setFused(false);
            NDArray layered = attn.forward(x, null);
            assertNull(attn.qkvBf16.current(), "the knob keeps the layer-by-layer path");
            Bf16Compute.setFused(true);
            NDArray fused = attn.forward(x, null);
            assertNull(Bf16Compute.fusedUnavailableReason());
            assertNotNull(attn.qkvBf16.current(), "q, k, v packed as one on first use");
            double e = relativeError(want, fused);
            assertTrue(e < 3e-2 && e > 1e-5, "fused vs float32 " + e);
            // Same roundings (q, k, v and the attention output to bfloat16) in both: only
            // oneDNN's accumulation order over the stacked product may differ.
            double d = relativeError(layered, fused);
            assertTrue(d < 1e-2, "fused vs layer by layer " + d);
        }
    }

    @Test
    void crossAttentionAndTheVaesSpatialAttentionKeepTheirPath() {
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights w = new RandomWeights(22, m);
            Attention cross =
                    new Attention(
                            w.prefix("attn2"), 64, 24, 4, 16, false, false, 0, 1e-6, false, 1);
            Attention vae =
                    new Attention(w.prefix("vae"), 32, 32, 1, 32, true, true, 8, 1e-6, true, 1);
            Bf16Compute.setEnabled(true);
            cross.forward(
                    m.randomNormal(new Shape(2, 300, 64)), m.randomNormal(new Shape(2, 7, 24)));
            vae.forward(m.randomNormal(new Shape(1, 32, 17, 17)), null);
            assertNull(cross.qkvBf16.current());
            assertNull(vae.qkvBf16.current());
        }
    }

    @Test
    void gegluFeedForwardAgreesWithTheLayerByLayerPathAndFloat32() {
        try (NDManager m = NDManager.newBaseManager()) {
            FeedForward ff = new FeedForward(new RandomWeights(23, m).prefix("ff"), 32, 4);
            NDArray x = m.randomNormal(new Shape(2, 9, 32));
            NDArray want = ff.forward(x);
            Bf16Compute.setEnabled(true);
            Bf16Compute.setFused(false);
            NDArray layered = ff.forward(x);
            assertNull(ff.valueBf16.current());
            Bf16Compute.setFused(true);
            NDArray fused = ff.forward(x);
            assertNotNull(ff.gateBf16.current());
            double e = relativeError(want, fused);
            assertTrue(e < 2e-2 && e > 1e-5, "fused vs float32 " + e);
            // The layer-by-layer call rounds the projection, then GELU·product, to bfloat16; the
            // post-ops apply GELU and the product to float32 accumulators before rounding.
            double d = relativeError(layered, fused);
            assertTrue(d < 2e-2, "fused vs layer by layer " + d);
        }
    }

    @Test
    void fusedWeightsAreFreedWithTheModelsManager() {
        try (NDManager root = NDManager.newBaseManager()) {
            NDManager model = root.newSubManager();
            RandomWeights w = new RandomWeights(24, model);
            Attention attn =
                    new Attention(w.prefix("a"), 32, 32, 2, 16, false, false, 0, 1e-6, false, 1);
            FeedForward ff = new FeedForward(w.prefix("ff"), 32, 4);
            Bf16Compute.setEnabled(true);
            NDArray x = root.randomNormal(new Shape(1, 5, 32));
            attn.forward(x, null);
            ff.forward(x);
            Bf16Compute.Packed[] packed = {
                attn.qkvBf16.current(), ff.valueBf16.current(), ff.gateBf16.current()
            };
            for (Bf16Compute.Packed p : packed) {
                assertTrue(p != null && !p.released(), "packed on first use");
            }
            model.close();
            for (Bf16Compute.Packed p : packed) {
                assertTrue(p.released(), "freed with the weights' manager");
            }
        }
    }
}
