package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.testing.PerClassManager;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * The {@code vae} case of the reference data: {@code vae/latents -> vae/decoded} (no scaling) and
 * {@code vae/image -> vae/encoded_mean, vae/encoded_std}, within the case's atol.
 */
class AutoencoderKLGoldenTest extends PerClassManager {
    @TestFactory
    List<DynamicTest> vaeGolden() throws Exception {
        Path golden = SharedData.golden();
        List<DynamicTest> tests = new ArrayList<>();
        for (GoldenComponents.Case c : GoldenComponents.cases(golden, "vae")) {
            String name = "VaeGolden " + c.model() + " " + c.name();
            tests.add(DynamicTest.dynamicTest(name + " decode", () -> decode(golden, c)));
            tests.add(
                    DynamicTest.dynamicTest(
                            name + " decode in strips", () -> decodeInStrips(golden, c)));
            tests.add(DynamicTest.dynamicTest(name + " encode", () -> encode(golden, c)));
        }
        return tests;
    }

    private AutoencoderKL load(Path golden, GoldenComponents.Case c, NDManager m) throws Exception {
        return AutoencoderKL.load(golden.resolve(c.model()).resolve("vae"), m, DataType.FLOAT32);
    }

    private void decode(Path golden, GoldenComponents.Case c) throws Exception {
        decode(golden, c, false);
    }

    /**
     * The decoder with every 3×3 convolution over more than 64 elements computed in strips of rows
     * (StripedConvolution; at 1024² the default limit stripes the two highest levels): diffusers'
     * output as closely as whole, and the whole result to float rounding.
     */
    private void decodeInStrips(Path golden, GoldenComponents.Case c) throws Exception {
        decode(golden, c, true);
    }

    private void decode(Path golden, GoldenComponents.Case c, boolean inStrips) throws Exception {
        try (NDManager m = manager.newSubManager();
                AutoencoderKL vae = load(golden, c, m);
                SafetensorsFile f = GoldenComponents.open(golden, c.model())) {
            NDArray latents = GoldenComponents.tensor(f, c.name() + "/latents", m);
            NDArray expected = GoldenComponents.tensor(f, c.name() + "/decoded", m);
            NDArray whole = vae.decode(latents);
            NDArray out = whole;
            if (inStrips) {
                try (ComputeOptions.Scope s =
                        ComputeOptions.defaults().withStripElements(64).enter()) {
                    out = vae.decode(latents);
                }
            }
            int factor = vae.config().vaeScaleFactor();
            assertEquals(latents.getShape().get(2) * factor, out.getShape().get(2));
            String what = inStrips ? "decode in strips" : "decode";
            double err = GoldenComponents.maxAbsDiff(out, expected);
            double fromWhole = GoldenComponents.maxAbsDiff(out, whole);
            System.out.printf(
                    "VaeGolden %s %s: max abs error %.3g (atol %g), %.3g from whole%n",
                    c.model(), what, err, c.atol(), fromWhole);
            assertTrue(err <= c.atol(), c.model() + " " + what + ": max abs error " + err);
            assertTrue(fromWhole <= 1e-5, c.model() + " striped vs whole: " + fromWhole);
        }
    }

    private void encode(Path golden, GoldenComponents.Case c) throws Exception {
        try (NDManager m = manager.newSubManager();
                AutoencoderKL vae = load(golden, c, m);
                SafetensorsFile f = GoldenComponents.open(golden, c.model())) {
            NDArray image = GoldenComponents.tensor(f, c.name() + "/image", m);
            NDArray mean = GoldenComponents.tensor(f, c.name() + "/encoded_mean", m);
            NDArray std = GoldenComponents.tensor(f, c.name() + "/encoded_std", m);
            try (AutoencoderKL.LatentDist dist = vae.encode(image)) {
                double errMean = GoldenComponents.maxAbsDiff(dist.mean(), mean);
                double errStd = GoldenComponents.maxAbsDiff(dist.std(), std);
                System.out.printf(
                        "VaeGolden %s encode: mean %.3g std %.3g (atol %g)%n",
                        c.model(), errMean, errStd, c.atol());
                assertTrue(errMean <= c.atol(), c.model() + " encode mean: " + errMean);
                assertTrue(errStd <= c.atol(), c.model() + " encode std: " + errStd);
            }
        }
    }

    /** The tiny VAE's 2 levels give a factor of 2, derived from block_out_channels. */
    @org.junit.jupiter.api.Test
    void vaeScaleFactorIsDerivedFromTheConfig() {
        Path golden = SharedData.golden();
        assertEquals(2, VaeConfig.load(golden.resolve("tiny-sd1/vae")).vaeScaleFactor());
    }
}
