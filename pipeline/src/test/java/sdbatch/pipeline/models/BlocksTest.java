package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.models.blocks.Upsample2D;
import sdbatch.pipeline.models.layers.GroupNorm;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.RandomWeights;

/** Blocks built from ops that DJL lacks, checked against their definitions. */
class BlocksTest {

    @Test
    void groupNormMatchesItsDefinitionInDoublePrecision() {
        int b = 2, c = 6, groups = 3, h = 4, w = 5;
        double eps = 1e-6;
        try (NDManager m = NDManager.newBaseManager()) {
            float[] x = new float[b * c * h * w];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (3 * Math.sin(0.37 * i) + 0.01 * i);
            }
            RandomWeights rw = new RandomWeights(3, m);
            GroupNorm norm = new GroupNorm(rw.prefix("gn"), groups, c, eps);
            float[] gamma = rw.get("gn.weight", new Shape(c)).toFloatArray();
            float[] beta = rw.get("gn.bias", new Shape(c)).toFloatArray();
            float[] out = norm.forward(m.create(x, new Shape(b, c, h, w))).toFloatArray();
            int per = c / groups * h * w;
            double maxErr = 0;
            for (int n = 0; n < b; n++) {
                for (int g = 0; g < groups; g++) {
                    int base = (n * groups + g) * per;
                    double mean = 0;
                    for (int i = 0; i < per; i++) {
                        mean += x[base + i];
                    }
                    mean /= per;
                    double var = 0;
                    for (int i = 0; i < per; i++) {
                        var += (x[base + i] - mean) * (x[base + i] - mean);
                    }
                    var /= per; // biased, as torch's GroupNorm
                    for (int i = 0; i < per; i++) {
                        int ch = g * (c / groups) + i / (h * w);
                        double want =
                                (x[base + i] - mean) / Math.sqrt(var + eps) * gamma[ch] + beta[ch];
                        maxErr = Math.max(maxErr, Math.abs(want - out[base + i]));
                    }
                }
            }
            assertTrue(maxErr < 2e-6, "max error " + maxErr);
        }
    }

    @Test
    void nearestUpsamplingFollowsTorchIndexRule() {
        try (NDManager m = NDManager.newBaseManager()) {
            int hi = 3, wi = 5, ho = 7, wo = 11;
            NDArray x = m.arange(0f, hi * wi).reshape(1, 1, hi, wi);
            float[] out = Upsample2D.upsampleNearest(x, new long[] {ho, wo}).toFloatArray();
            // torch upsample_nearest2d: src = min(floor(dst * (in / out)), in - 1), in float.
            for (int i = 0; i < ho; i++) {
                for (int j = 0; j < wo; j++) {
                    int si = Math.min((int) Math.floor(i * ((float) hi / ho)), hi - 1);
                    int sj = Math.min((int) Math.floor(j * ((float) wi / wo)), wi - 1);
                    assertEquals(si * wi + sj, out[i * wo + j], "at " + i + "," + j);
                }
            }
            float[] twice = Upsample2D.upsampleNearest(x, null).toFloatArray();
            for (int i = 0; i < 2 * hi; i++) {
                for (int j = 0; j < 2 * wi; j++) {
                    assertEquals((i / 2) * wi + j / 2, twice[i * 2 * wi + j]);
                }
            }
        }
    }

    @Test
    void unetAcceptsSizesThatAreNotAMultipleOfItsDownFactor() throws Exception {
        Path golden = SharedData.golden();
        try (NDManager m = NDManager.newBaseManager();
                GoldenComponents.GoldenUnet goldenUnet =
                        GoldenComponents.GoldenUnet.load(golden, "tiny-sd1", m)) {
            NDArray sample = goldenUnet.tensor("unet1/sample", m).get(":, :, :13, :10");
            NDArray ehs = goldenUnet.tensor("unet1/encoder_hidden_states", m);
            // A scalar float timestep is broadcast to the batch, as in diffusers.
            NDArray out = goldenUnet.unet().forward(sample, m.create(500.5f), ehs);
            assertEquals(sample.getShape(), out.getShape());
            assertTrue(Float.isFinite(out.sum().getFloat()));
        }
    }
}
