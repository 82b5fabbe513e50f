package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import sdbatch.pipeline.testing.PerClassManager;
import sdbatch.pipeline.testing.SharedData;

/**
 * Every {@code unet<k>} case of the reference data: diffusers' UNet output for the given sample,
 * timestep and text embeddings, within the case's atol.
 */
class UNet2DConditionModelGoldenTest extends PerClassManager {
    @TestFactory
    List<DynamicTest> unetGolden() throws Exception {
        Path golden = SharedData.golden();
        return GoldenComponents.cases(golden, "unet").stream()
                .map(
                        c ->
                                DynamicTest.dynamicTest(
                                        "UNetGolden " + c.model() + " " + c.name(),
                                        () -> check(golden, c)))
                .toList();
    }

    private void check(Path golden, GoldenComponents.Case c) throws Exception {
        try (NDManager m = manager.newSubManager();
                GoldenComponents.GoldenUnet goldenUnet =
                        GoldenComponents.GoldenUnet.load(golden, c.model(), m)) {
            GoldenComponents.UnetInputs in = goldenUnet.inputs(c.name(), m);
            NDArray expected = goldenUnet.tensor(c.name() + "/out", m);
            NDArray out = goldenUnet.forward(in);
            double err = GoldenComponents.maxAbsDiff(out, expected);
            System.out.printf(
                    "UNetGolden %s %s: max abs error %.3g (atol %g)%n",
                    c.model(), c.name(), err, c.atol());
            assertTrue(
                    err <= c.atol(),
                    c.model() + " " + c.name() + ": max abs error " + err + " > atol " + c.atol());
        }
    }
}
