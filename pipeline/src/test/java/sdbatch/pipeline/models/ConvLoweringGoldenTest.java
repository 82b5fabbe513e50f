package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.testing.TestCompute;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * The golden UNet and VAE decoder with every convolution lowered to im2col + mm: the tiny golden
 * models' weights are below the size where {@code auto} lowers, so without forcing it the golden
 * tests would only cover libtorch's path.
 */
class ConvLoweringGoldenTest {
    @AfterEach
    void restore() {
        TestCompute.reset();
    }

    @Test
    void unetAndVaeMatchDiffusersWithEveryConvolutionLowered() throws Exception {
        Path golden = SharedData.golden();
        TestCompute.set(o -> o.withConvLowering("always"));
        try (NDManager m = NDManager.newBaseManager();
                SafetensorsFile f = GoldenComponents.open(golden, "tiny-sd1")) {
            try (UNet2DConditionModel unet =
                    UNet2DConditionModel.load(
                            golden.resolve("tiny-sd1/unet"), m, DataType.FLOAT32)) {
                NDArray out =
                        unet.forward(
                                GoldenComponents.tensor(f, "unet0/sample", m),
                                GoldenComponents.tensor(f, "unet0/timestep", m),
                                GoldenComponents.tensor(f, "unet0/encoder_hidden_states", m));
                double d =
                        GoldenComponents.maxAbsDiff(
                                out, GoldenComponents.tensor(f, "unet0/out", m));
                assertTrue(d <= 1e-4, "UNet max abs error " + d);
            }
            try (AutoencoderKL vae =
                    AutoencoderKL.load(golden.resolve("tiny-sd1/vae"), m, DataType.FLOAT32)) {
                NDArray decoded = vae.decode(GoldenComponents.tensor(f, "vae/latents", m));
                double d =
                        GoldenComponents.maxAbsDiff(
                                decoded, GoldenComponents.tensor(f, "vae/decoded", m));
                assertTrue(d <= 1e-4, "VAE decode max abs error " + d);
            }
        }
    }
}
