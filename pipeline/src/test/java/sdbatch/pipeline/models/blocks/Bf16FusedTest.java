package sdbatch.pipeline.models.blocks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import sdbatch.pipeline.bench.NativeProfile;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.models.kernels.Bf16Fused;
import sdbatch.pipeline.models.layers.LayerNorm;
import sdbatch.pipeline.testing.TestCompute;
import sdbatch.pipeline.weights.RandomWeights;

/**
 * The single bfloat16 calls of {@link Bf16Fused}: the transformer block's norm + self-attention +
 * residual and norm + GEGLU feed-forward + residual, the whole block, the whole Transformer2DModel
 * and the whole ResnetBlock2D.
 */
class Bf16FusedTest {

    @AfterEach
    void off() {
        TestCompute.reset();
    }

    /**
     * {@code got} is bfloat16-close to float32's {@code want} (relative error under {@code
     * maxError}, and not zero: bfloat16 ran) and within {@code maxDifference} of {@code other}, the
     * same computation by another path.
     */
    private static void assertAgrees(
            NDArray want,
            double maxError,
            NDArray other,
            double maxDifference,
            NDArray got,
            String otherName) {
        double e = relativeError(want, got);
        assertTrue(e < maxError && e > 1e-5, "fused vs float32 " + e);
        if (other != null) {
            double d = relativeError(other, got);
            assertTrue(d < maxDifference, "fused vs " + otherName + " " + d);
        }
    }

    private static double relativeError(NDArray want, NDArray got) {
        assertEquals(want.getShape(), got.getShape());
        assertEquals(DataType.FLOAT32, got.getDataType());
        return (double) want.sub(got).abs().max().getFloat() / want.abs().max().getFloat();
    }

    // 300 tokens: attention in bfloat16 (>= 256 keys); 40: float32 attention on bfloat16 q, k, v.
    @ParameterizedTest
    @ValueSource(ints = {300, 40})
    void normSelfAttentionResidualAgreesWithTheLayerByLayerPathAndFloat32(int tokens) {
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights w = new RandomWeights(21, m);
            LayerNorm norm = new LayerNorm(w.prefix("norm1"), 64, 1e-5);
            Attention attn =
                    new Attention(
                            w.prefix("attn1"), 64, 64, 4, 16, false, false, 0, 1e-6, false, 1);
            NDArray x = m.randomNormal(new Shape(2, tokens, 64));
            NDArray want = attn.forward(norm.forward(x), null).add(x);
            assertNull(attn.fusedNormSelfAttention(norm, x), "float32: no fused path");
            TestCompute.set(o -> o.withBf16(true));
            NDArray layered = attn.forward(norm.forward(x), null).add(x);
            TestCompute.set(o -> o.withBf16Fused(false));
            assertNull(attn.fusedNormSelfAttention(norm, x), "the knob turns it off");
            TestCompute.set(o -> o.withBf16Fused(true));
            NDArray fused = attn.fusedNormSelfAttention(norm, x);
            assertNull(Bf16Compute.fusedUnavailableReason());
            assertNotNull(fused);
            assertNotNull(attn.qkvBf16.current(), "q, k, v packed as one on first use");
            // Relative to the attention's own contribution, not to the residual it is added to.
            NDArray attention32 = want.sub(x);
            // Same roundings (q, k, v and the attention output to bfloat16) in both: only
            // oneDNN's accumulation order over the stacked product may differ.
            assertAgrees(attention32, 3e-2, layered.sub(x), 1e-2, fused.sub(x), "layer by layer");
        }
    }

    @Test
    void crossAttentionAndTheVaesSpatialAttentionHaveNoFusedPath() {
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights w = new RandomWeights(22, m);
            LayerNorm norm = new LayerNorm(w.prefix("norm"), 64, 1e-5);
            Attention cross =
                    new Attention(
                            w.prefix("attn2"), 64, 24, 4, 16, false, false, 0, 1e-6, false, 1);
            Attention vae =
                    new Attention(w.prefix("vae"), 64, 64, 1, 64, true, true, 8, 1e-6, true, 1);
            TestCompute.set(o -> o.withBf16(true));
            NDArray x = m.randomNormal(new Shape(2, 300, 64));
            assertNull(cross.fusedNormSelfAttention(norm, x));
            assertNull(vae.fusedNormSelfAttention(norm, x));
            assertNull(cross.qkvBf16.current());
            assertNull(vae.qkvBf16.current());
        }
    }

    @Test
    void normGegluFeedForwardResidualAgreesWithTheLayerByLayerPathAndFloat32() {
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights w = new RandomWeights(23, m);
            LayerNorm norm = new LayerNorm(w.prefix("norm3"), 32, 1e-5);
            FeedForward ff = new FeedForward(w.prefix("ff"), 32, 4);
            NDArray x = m.randomNormal(new Shape(2, 9, 32));
            NDArray want = ff.forward(norm.forward(x));
            TestCompute.set(o -> o.withBf16(true));
            NDArray layered = ff.forward(norm.forward(x));
            assertNull(ff.valueBf16.current(), "the layer-by-layer path packs net.0.proj whole");
            NDArray fused = ff.fusedNormResidual(norm, x).sub(x);
            assertNotNull(ff.gateBf16.current());
            // The layer-by-layer call rounds the projection, then GELU·product, to bfloat16; the
            // post-ops apply GELU and the product to float32 accumulators before rounding.
            assertAgrees(want, 2e-2, layered, 2e-2, fused, "layer by layer");
        }
    }

    @Test
    void transformerBlockAgreesWithTheLayerByLayerPathAndFloat32() {
        try (NDManager m = NDManager.newBaseManager()) {
            BasicTransformerBlock block =
                    new BasicTransformerBlock(
                            new RandomWeights(25, m).prefix("block"), 64, 4, 16, 24, false);
            NDArray x = m.randomNormal(new Shape(2, 300, 64));
            NDArray text = m.randomNormal(new Shape(2, 7, 24));
            Outputs out =
                    outputs(
                            () -> block.forward(x, text).sub(x),
                            () -> {
                                assertNull(block.attn1.qkvBf16.current());
                                assertNull(block.ff.valueBf16.current());
                            });
            assertNotNull(block.attn1.qkvBf16.current(), "attn1 took the fused path");
            assertNotNull(block.ff.valueBf16.current(), "ff took the fused path");
            assertNull(block.attn2.qkvBf16.current(), "attn2 did not");
            assertAgrees(out.float32(), 3e-2, out.layered(), 2e-2, out.fused(), "layer by layer");
        }
    }

    /** One computation's outputs by the three paths {@link #outputs} runs it on. */
    private record Outputs(NDArray float32, NDArray layered, NDArray fused) {}

    /**
     * {@code forward}'s output in float32, then in bfloat16 layer by layer (single calls off;
     * {@code layeredChecks} run right after), then in bfloat16 with the single calls on.
     */
    private static Outputs outputs(Supplier<NDArray> forward, Runnable layeredChecks) {
        NDArray float32 = forward.get();
        TestCompute.set(o -> o.withBf16(true));
        TestCompute.set(o -> o.withBf16Fused(false));
        NDArray layered = forward.get();
        layeredChecks.run();
        TestCompute.set(o -> o.withBf16Fused(true));
        return new Outputs(float32, layered, forward.get());
    }

    /** Top-level libtorch calls {@code body} makes. */
    private static int nativeCalls(Runnable body) {
        return NativeProfile.of(body).nativeCalls();
    }

    @Test
    void transformerBlockIsOneCall() {
        try (NDManager m = NDManager.newBaseManager()) {
            BasicTransformerBlock block =
                    new BasicTransformerBlock(
                            new RandomWeights(26, m).prefix("block"), 64, 4, 16, 24, false);
            NDArray x = m.randomNormal(new Shape(2, 40, 64));
            NDArray text = m.randomNormal(new Shape(2, 7, 24));
            TestCompute.set(o -> o.withBf16(true));
            TestCompute.set(o -> o.withBf16Fused(false));
            int layered = nativeCalls(() -> block.forward(x, text));
            TestCompute.set(o -> o.withBf16Fused(true));
            block.forward(x, text); // packs the weights
            assertEquals(1, nativeCalls(() -> block.forward(x, text)));
            assertTrue(layered > 10, "layer by layer: " + layered + " calls");
        }
    }

    // 16×16 = 256 tokens: self-attention in bfloat16; 4×6: float32 attention.
    @ParameterizedTest
    @CsvSource({"16, 16, false", "4, 6, false", "4, 6, true"})
    void transformer2dModelAgreesWithTheLayerByLayerPathAndFloat32AsOneCall(
            int height, int width, boolean linearProjection) {
        try (NDManager m = NDManager.newBaseManager()) {
            Transformer2DModel model =
                    new Transformer2DModel(
                            new RandomWeights(27, m).prefix("attentions.0"),
                            4,
                            16,
                            48,
                            1,
                            24,
                            8,
                            linearProjection,
                            false);
            NDArray x = m.randomNormal(new Shape(2, 48, height, width));
            NDArray text = m.randomNormal(new Shape(2, 7, 24));
            Outputs out =
                    outputs(
                            () -> model.forward(x, text).sub(x),
                            () -> assertNull(model.projInBf16.current()));
            assertNotNull(model.projInBf16.current(), "took the single-call path");
            assertEquals(1, nativeCalls(() -> model.forward(x, text)));
            assertAgrees(out.float32(), 3e-2, out.layered(), 2e-2, out.fused(), "layer by layer");
        }
    }

    @Test
    void aTransformerOfSeveralBlocksRunsItsLayersWithBlocksAsSingleCalls() {
        try (NDManager m = NDManager.newBaseManager()) {
            Transformer2DModel model =
                    new Transformer2DModel(
                            new RandomWeights(28, m).prefix("t"), 2, 16, 32, 2, 24, 8, true, false);
            NDArray x = m.randomNormal(new Shape(1, 32, 4, 4));
            NDArray text = m.randomNormal(new Shape(1, 5, 24));
            NDArray want = model.forward(x, text).sub(x);
            TestCompute.set(o -> o.withBf16(true));
            NDArray fused = model.forward(x, text).sub(x);
            assertNull(model.projInBf16.current(), "no whole-model call for two blocks");
            for (BasicTransformerBlock block : model.transformerBlocks) {
                assertNotNull(block.ff.valueBf16.current(), "each block took a fused path");
            }
            assertAgrees(want, 3e-2, null, 0, fused, null);
        }
    }

    // (in, out, temb, output scale): SD's blocks keep the width or change it through a 1×1
    // shortcut; the VAE's have no timestep embedding; 2.0 is an upscaled model's factor.
    @ParameterizedTest
    @CsvSource({
        "32, 32, true, 1.0",
        "32, 64, true, 1.0",
        "64, 32, false, 1.0",
        "32, 32, true, 2.0"
    })
    void resnetBlockAgreesWithTheLayerByLayerPathAndFloat32AsOneCall(
            int in, int out, boolean withTemb, double outputScale) {
        try (NDManager m = NDManager.newBaseManager()) {
            ResnetBlock2D block =
                    new ResnetBlock2D(
                            new RandomWeights(29, m).prefix("resnets.0"),
                            in,
                            out,
                            withTemb ? 40 : 0,
                            8,
                            1e-5,
                            outputScale);
            NDArray x = m.randomNormal(new Shape(2, in, 8, 8));
            NDArray temb = withTemb ? m.randomNormal(new Shape(2, 40)) : null;
            Outputs outputs = outputs(() -> block.forward(x, temb), () -> {});
            assertEquals(1, nativeCalls(() -> block.forward(x, temb)));
            // The same roundings in the same places: only accumulation order may differ.
            assertAgrees(
                    outputs.float32(),
                    3e-2,
                    outputs.layered(),
                    1e-2,
                    outputs.fused(),
                    "layer by layer");
        }
    }

    @Test
    void anUpBlocksSkipConnectionIsConcatenatedInsideTheResnetCall() {
        try (NDManager m = NDManager.newBaseManager()) {
            ResnetBlock2D block =
                    new ResnetBlock2D(
                            new RandomWeights(30, m).prefix("resnets.1"), 48, 32, 40, 8, 1e-5, 1);
            NDArray x = m.randomNormal(new Shape(2, 32, 8, 8));
            NDArray skip = m.randomNormal(new Shape(2, 16, 8, 8));
            NDArray temb = m.randomNormal(new Shape(2, 40));
            NDArray want = block.forward(x.concat(skip, 1), temb);
            assertEquals(
                    0.0, want.sub(block.forwardWithSkip(x, skip, temb)).abs().max().getFloat());
            TestCompute.set(o -> o.withBf16(true));
            NDArray outside = block.forward(x.concat(skip, 1), temb);
            NDArray inside = block.forwardWithSkip(x, skip, temb);
            assertEquals(1, nativeCalls(() -> block.forwardWithSkip(x, skip, temb)));
            assertAgrees(want, 3e-2, outside, 1e-6, inside, "the block on the concatenation");
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
            TestCompute.set(o -> o.withBf16(true));
            LayerNorm norm = new LayerNorm(w.prefix("norm"), 32, 1e-5);
            NDArray x = root.randomNormal(new Shape(1, 5, 32));
            attn.fusedNormSelfAttention(norm, x);
            ff.fusedNormResidual(norm, x);
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
