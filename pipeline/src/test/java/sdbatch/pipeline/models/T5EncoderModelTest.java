package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.config.T5Config;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.RandomWeights;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * {@link T5EncoderModel}: the relative-position buckets against values worked out by hand from
 * transformers' {@code _relative_position_bucket} (T5's defaults: 32 buckets, max distance 128),
 * and the whole encoder on random weights against a plain-Java double-precision reference written
 * from transformers' modeling_t5.py (embedding, RMS norms, unscaled attention with the first
 * block's position bias in every block, gated gelu_new feed-forward, final norm). Float32 CPU.
 */
class T5EncoderModelTest {
    @TempDir Path dir;

    @Test
    void relativePositionBucketsOfT5Defaults() {
        int[][] cases = {
            {0, 0},
            {-1, 1},
            {1, 17},
            {-7, 7},
            {7, 23},
            {-8, 8},
            {-12, 9},
            {-16, 10},
            {16, 26},
            {-127, 15},
            {-128, 15},
            {-1000, 15},
            {200, 31}
        };
        for (int[] c : cases) {
            assertEquals(
                    c[1],
                    T5EncoderModel.relativePositionBucket(c[0], 32, 128),
                    "relative position " + c[0]);
        }
    }

    private static final T5Config TINY =
            T5Config.parse(
                    "tiny",
                    "{\"vocab_size\": 20, \"d_model\": 8, \"d_kv\": 4, \"num_heads\": 2,"
                            + " \"d_ff\": 12, \"num_layers\": 2,"
                            + " \"relative_attention_num_buckets\": 8,"
                            + " \"relative_attention_max_distance\": 6,"
                            + " \"feed_forward_proj\": \"gated-gelu\"}");

    @Test
    void encoderMatchesAPlainJavaReference() throws IOException {
        long[] ids = {3, 7, 1, 0, 0, 19, 4};
        float[] got;
        Path file = dir.resolve("t5.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            RandomWeights w = new RandomWeights(11, m);
            T5EncoderModel model = new T5EncoderModel(TINY, w);
            w.save(file);
            NDArray out = model.forward(m.create(ids, new Shape(1, ids.length)));
            assertEquals(new Shape(1, ids.length, 8), out.getShape());
            got = out.toFloatArray();
            model.close();
        }
        double[][] ref;
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            ref = reference(f, ids);
        }
        double maxDiff = 0;
        double maxRef = 0;
        for (int t = 0; t < ids.length; t++) {
            for (int c = 0; c < 8; c++) {
                maxDiff = Math.max(maxDiff, Math.abs(ref[t][c] - got[t * 8 + c]));
                maxRef = Math.max(maxRef, Math.abs(ref[t][c]));
            }
        }
        assertTrue(maxRef > 0.1, "the reference output is near zero: " + maxRef);
        assertTrue(maxDiff < 1e-5, "max difference " + maxDiff);
    }

    @Test
    void unsupportedFeedForwardIsRefused() {
        assertThrows(
                ModelLoadException.class,
                () -> T5Config.parse("x", "{\"feed_forward_proj\": \"gated-swish\"}"));
        assertEquals("gelu_new", TINY.denseActFn());
        assertTrue(TINY.isGatedAct());
    }

    // ---- the reference, in double precision --------------------------------------------------

    private static double[][] matrix(SafetensorsFile f, String key, int rows, int cols)
            throws IOException {
        float[] v = f.readFloats(key);
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out[r][c] = v[r * cols + c];
            }
        }
        return out;
    }

    /** x @ W.T for W [out, in]. */
    private static double[][] linear(double[][] x, double[][] w) {
        double[][] out = new double[x.length][w.length];
        for (int t = 0; t < x.length; t++) {
            for (int o = 0; o < w.length; o++) {
                double s = 0;
                for (int i = 0; i < w[o].length; i++) {
                    s += x[t][i] * w[o][i];
                }
                out[t][o] = s;
            }
        }
        return out;
    }

    private static double[][] rmsNorm(double[][] x, float[] weight) {
        double[][] out = new double[x.length][x[0].length];
        for (int t = 0; t < x.length; t++) {
            double ms = 0;
            for (double v : x[t]) {
                ms += v * v;
            }
            ms /= x[t].length;
            for (int c = 0; c < x[t].length; c++) {
                out[t][c] = weight[c] * x[t][c] / Math.sqrt(ms + 1e-6);
            }
        }
        return out;
    }

    private static double geluNew(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** transformers' bucket formula, written again in double precision. */
    private static int bucket(int rp, int numBuckets, int maxDistance) {
        int half = numBuckets / 2;
        int b = rp > 0 ? half : 0;
        int a = Math.abs(rp);
        int maxExact = half / 2;
        if (a < maxExact) {
            return b + a;
        }
        int large =
                maxExact
                        + (int)
                                (Math.log((double) a / maxExact)
                                        / Math.log((double) maxDistance / maxExact)
                                        * (half - maxExact));
        return b + Math.min(large, half - 1);
    }

    private static double[][] reference(SafetensorsFile f, long[] ids) throws IOException {
        int d = 8;
        int heads = 2;
        int dkv = 4;
        int ff = 12;
        int n = ids.length;
        double[][] shared = matrix(f, "shared.weight", 20, d);
        double[][] bias =
                matrix(
                        f,
                        "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                        8,
                        2);
        double[][] h = new double[n][];
        for (int t = 0; t < n; t++) {
            h[t] = shared[(int) ids[t]].clone();
        }
        for (int l = 0; l < 2; l++) {
            String p = "encoder.block." + l + ".";
            double[][] x = rmsNorm(h, f.readFloats(p + "layer.0.layer_norm.weight"));
            double[][] q = linear(x, matrix(f, p + "layer.0.SelfAttention.q.weight", 8, d));
            double[][] k = linear(x, matrix(f, p + "layer.0.SelfAttention.k.weight", 8, d));
            double[][] v = linear(x, matrix(f, p + "layer.0.SelfAttention.v.weight", 8, d));
            double[][] o = new double[n][heads * dkv];
            for (int hd = 0; hd < heads; hd++) {
                for (int i = 0; i < n; i++) {
                    double[] s = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        for (int c = 0; c < dkv; c++) {
                            dot += q[i][hd * dkv + c] * k[j][hd * dkv + c];
                        }
                        s[j] = dot + bias[bucket(j - i, 8, 6)][hd];
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < n; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int c = 0; c < dkv; c++) {
                        double acc = 0;
                        for (int j = 0; j < n; j++) {
                            acc += s[j] / sum * v[j][hd * dkv + c];
                        }
                        o[i][hd * dkv + c] = acc;
                    }
                }
            }
            double[][] attn = linear(o, matrix(f, p + "layer.0.SelfAttention.o.weight", d, 8));
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < d; c++) {
                    h[t][c] += attn[t][c];
                }
            }
            double[][] y = rmsNorm(h, f.readFloats(p + "layer.1.layer_norm.weight"));
            double[][] g = linear(y, matrix(f, p + "layer.1.DenseReluDense.wi_0.weight", ff, d));
            double[][] lin = linear(y, matrix(f, p + "layer.1.DenseReluDense.wi_1.weight", ff, d));
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < ff; c++) {
                    g[t][c] = geluNew(g[t][c]) * lin[t][c];
                }
            }
            double[][] out = linear(g, matrix(f, p + "layer.1.DenseReluDense.wo.weight", d, ff));
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < d; c++) {
                    h[t][c] += out[t][c];
                }
            }
        }
        return rmsNorm(h, f.readFloats("encoder.final_layer_norm.weight"));
    }
}
