package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.models.blocks.Attention;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.testing.TestCompute;

/** Attention in query chunks gives the unchunked result, alone and inside the UNet. */
class AttentionChunkingTest {
    @BeforeEach
    void chunkedPath() {
        // The fused kernel ignores the chunk limit; these tests are about the NDArray path.
        TestCompute.set(o -> o.withFusedAttention(false));
    }

    @AfterEach
    void restore() {
        TestCompute.reset();
    }

    @Test
    void chunkedAttentionEqualsUnchunked() {
        try (NDManager m = NDManager.newBaseManager()) {
            // 6 = B*heads, 37 queries (not a multiple of any chunk), 11 keys, head width 8.
            NDArray q = m.randomNormal(new Shape(6, 37, 8));
            NDArray k = m.randomNormal(new Shape(6, 11, 8));
            NDArray v = m.randomNormal(new Shape(6, 11, 8));
            TestCompute.set(o -> o.withMaxScoreElements(Long.MAX_VALUE));
            NDArray full = Attention.attend(q, k, v, 0.35, false);
            // The reference: softmax(q k^T * scale) v written out directly.
            NDArray direct = q.matMul(k.transpose(0, 2, 1)).mul(0.35).softmax(2).matMul(v);
            assertTrue(GoldenComponents.maxAbsDiff(full, direct) < 1e-6);
            for (long limit : new long[] {1, 6 * 11, 6 * 11 * 5, 6 * 11 * 36}) {
                TestCompute.set(o -> o.withMaxScoreElements(limit));
                NDArray chunked = Attention.attend(q, k, v, 0.35, false);
                assertEquals(full.getShape(), chunked.getShape());
                assertEquals(
                        0.0, GoldenComponents.maxAbsDiff(chunked, full), 1e-6, "limit " + limit);
            }
        }
    }

    @Test
    void unetWithTinyChunksMatchesReference() throws Exception {
        Path golden = SharedData.golden();
        try (NDManager m = NDManager.newBaseManager();
                GoldenComponents.GoldenUnet goldenUnet =
                        GoldenComponents.GoldenUnet.load(golden, "tiny-sd2v", m)) {
            GoldenComponents.UnetInputs in = goldenUnet.inputs("unet0", m);
            NDArray expected = goldenUnet.tensor("unet0/out", m);
            NDArray unchunked = goldenUnet.forward(in);
            // Self-attention at 32x32 latents: 1024 keys; this forces ~100 queries per chunk.
            TestCompute.set(o -> o.withMaxScoreElements(2L * 2 * 1024 * 100));
            NDArray chunked = goldenUnet.forward(in);
            // Per-head products of other shapes round differently in MKL (a few ulp, then carried
            // through the network); a wrong chunk would be off by the order of the outputs.
            double d = GoldenComponents.maxAbsDiff(chunked, unchunked);
            assertTrue(d < 1e-5, "chunked vs unchunked " + d);
            assertTrue(GoldenComponents.maxAbsDiff(chunked, expected) <= 1e-4);
        }
    }
}
