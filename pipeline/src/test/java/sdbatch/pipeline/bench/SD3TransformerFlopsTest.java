package sdbatch.pipeline.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SD3TransformerConfig;
import sdbatch.pipeline.models.SD3Transformer2DModel;
import sdbatch.pipeline.weights.Weights;

/**
 * The analytic count against one walked from the weights the model actually asks for: every 2-D
 * weight (and the patch convolution) times the tokens its layer applies to, by state-dict key.
 */
class SD3TransformerFlopsTest {

    /** SD3.5-like in miniature: dual attention in block 0, RMS qk-norm, 3 blocks. */
    private static final String TINY_SD35 =
            """
            {"_class_name": "SD3Transformer2DModel", "attention_head_dim": 8,
             "caption_projection_dim": 32, "dual_attention_layers": [0], "in_channels": 16,
             "joint_attention_dim": 96, "num_attention_heads": 4, "num_layers": 3,
             "out_channels": 16, "patch_size": 2, "pooled_projection_dim": 80,
             "pos_embed_max_size": 24, "qk_norm": "rms_norm", "sample_size": 32}
            """;

    /** Records the shape of every weight the model asks for; hands out zeros. */
    private static final class ShapeRecorder implements Weights {
        final Map<String, long[]> shapes = new LinkedHashMap<>();
        final NDManager manager;

        ShapeRecorder(NDManager manager) {
            this.manager = manager;
        }

        @Override
        public NDArray get(String key, Shape expected) {
            shapes.put(key, expected.getShape());
            return manager.zeros(expected);
        }

        @Override
        public boolean contains(String key) {
            return true;
        }

        @Override
        public Set<String> keys() {
            return shapes.keySet();
        }
    }

    /** The tokens a weight's layer sees per image: image tokens n, text tokens m, or 1. */
    private static long tokensOf(String key, long n, long m) {
        if (key.startsWith("context_embedder")
                || key.contains(".ff_context.")
                || key.contains(".attn.add_")
                || key.contains(".attn.to_add_out")) {
            return m;
        }
        if (key.startsWith("time_text_embed") || key.contains("norm")) {
            return 1; // the embeddings and every modulation linear: once per image
        }
        return n; // patch embedding, q/k/v/out, attn2, ff, proj_out
    }

    private static long walkedLinearFlops(Map<String, long[]> shapes, long n, long m) {
        long f = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long[] s = e.getValue();
            if (!e.getKey().endsWith(".weight") || s.length < 2) {
                continue; // biases, norm scales, the position table
            }
            long in = 1;
            for (int i = 1; i < s.length; i++) {
                in *= s[i]; // a conv's in × kh × kw
            }
            f += 2 * tokensOf(e.getKey(), n, m) * in * s[0];
        }
        return f;
    }

    @Test
    void matchesTheCountWalkedFromTheWeights() {
        SD3TransformerConfig c = SD3TransformerConfig.parse("tiny sd3.5", TINY_SD35);
        try (NDManager manager = NDManager.newBaseManager()) {
            ShapeRecorder w = new ShapeRecorder(manager);
            try (SD3Transformer2DModel model = new SD3Transformer2DModel(c, w)) {
                // 8x8 latents, patch 2: 16 image tokens; 10 text tokens.
                long n = 16;
                long m = 10;
                long linear = walkedLinearFlops(w.shapes, n, m);
                assertEquals(linear, SD3TransformerFlops.forward(c, 1, 8, 8, 10, false));
                // Joint attention over n + m tokens in 3 blocks, attn2 over n in block 0.
                long d = c.innerDim();
                long attention = 3 * 4 * (n + m) * (n + m) * d + 4 * n * n * d;
                assertEquals(linear + attention, SD3TransformerFlops.forward(c, 1, 8, 8, 10, true));
                assertEquals(
                        3 * (linear + attention),
                        SD3TransformerFlops.forward(c, 3, 8, 8, 10, true));
            }
        }
    }

    @Test
    void rejectsEmptyShapes() {
        SD3TransformerConfig c = SD3TransformerConfig.parse("tiny sd3.5", TINY_SD35);
        assertThrows(
                IllegalArgumentException.class,
                () -> SD3TransformerFlops.forward(c, 0, 8, 8, 1, true));
        assertThrows(
                IllegalArgumentException.class,
                () -> SD3TransformerFlops.forward(c, 1, 1, 8, 1, true));
    }
}
