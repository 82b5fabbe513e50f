package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.testing.SharedData;

/**
 * The golden ControlNet folder (made by diffusers) against the golden tiny SD 1.x UNet: it loads
 * with every tensor asked for, its residuals have the shapes of the UNet's skip connections, and
 * the UNet adds them (zeros change nothing; a wrong count or shape is a clear error).
 */
class ControlNetModelTest {
    static NDManager manager;
    static UNet2DConditionModel unet;
    static ControlNetModel controlNet;

    @BeforeAll
    static void load() throws IOException {
        Path golden = SharedData.golden();
        manager = NDManager.newBaseManager();
        unet =
                UNet2DConditionModel.load(
                        golden.resolve("tiny-sd1/unet"), manager, DataType.FLOAT32);
        controlNet =
                ControlNetModel.load(
                        golden.resolve("controlnet-tiny-sd1"), manager, DataType.FLOAT32);
    }

    @AfterAll
    static void close() {
        if (manager != null) {
            manager.close();
        }
    }

    @Test
    void residualsMatchTheSkipConnectionsAndZerosChangeNothing() {
        try (NDManager m = manager.newSubManager()) {
            NDArray sample = m.randomNormal(new Shape(2, 4, 16, 16));
            NDArray t = m.create(new float[] {10f, 700f});
            NDArray text = m.randomNormal(new Shape(2, 77, 32));
            NDArray picture = m.randomUniform(0, 1, new Shape(2, 3, 32, 32));
            assertEquals(2, controlNet.conditioningScaleFactor());
            ControlNetOutput out =
                    controlNet.forward(sample, t, text, picture, m.create(new float[] {1f, 1f}));
            // conv_in, 3 blocks × 2 layers, 2 downsamplers
            List<NDArray> down = out.downBlockResSamples();
            assertEquals(9, down.size());
            assertEquals(new Shape(2, 32, 16, 16), down.get(0).getShape());
            assertEquals(new Shape(2, 64, 4, 4), down.get(8).getShape());
            assertEquals(new Shape(2, 64, 4, 4), out.midBlockResSample().getShape());

            float[] plain = unet.forward(sample, t, text).toFloatArray();
            List<NDArray> zeros = new ArrayList<>();
            for (NDArray r : down) {
                zeros.add(r.zerosLike());
            }
            ControlNetOutput none =
                    new ControlNetOutput(zeros, out.midBlockResSample().zerosLike());
            assertArrayEquals(plain, unet.forward(sample, t, text, none).toFloatArray());

            float[] controlled = unet.forward(sample, t, text, out).toFloatArray();
            float max = 0;
            for (int i = 0; i < plain.length; i++) {
                max = Math.max(max, Math.abs(plain[i] - controlled[i]));
            }
            assertTrue(max > 1e-3, "the residuals changed the prediction by only " + max);

            IllegalArgumentException count =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    unet.forward(
                                            sample,
                                            t,
                                            text,
                                            new ControlNetOutput(
                                                    zeros.subList(0, 8), out.midBlockResSample())));
            assertTrue(count.getMessage().contains("has 8 entries"), count.getMessage());
            IllegalArgumentException size =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    controlNet.forward(
                                            sample,
                                            t,
                                            text,
                                            m.zeros(new Shape(2, 3, 16, 16)),
                                            m.create(1f)));
            assertTrue(size.getMessage().contains("controlnetCond must be"), size.getMessage());
        }
    }

    @Test
    void residualsScaleWithConditioningScalePerRow() {
        try (NDManager m = manager.newSubManager()) {
            NDArray sample = m.randomNormal(new Shape(1, 4, 16, 16)).repeat(0, 2);
            NDArray t = m.create(300f);
            NDArray text = m.randomNormal(new Shape(1, 77, 32)).repeat(0, 2);
            NDArray picture = m.randomUniform(0, 1, new Shape(1, 3, 32, 32)).repeat(0, 2);
            ControlNetOutput out =
                    controlNet.forward(sample, t, text, picture, m.create(new float[] {1f, 0.25f}));
            NDList all = new NDList(out.downBlockResSamples().toArray(new NDArray[0]));
            all.add(out.midBlockResSample());
            for (NDArray r : all) {
                float[] one = r.get(0).toFloatArray();
                float[] quarter = r.get(1).toFloatArray();
                for (int k = 0; k < one.length; k++) {
                    // rows of one batch agree to float rounding, not bits
                    assertEquals(0.25f * one[k], quarter[k], 1e-4f * Math.max(1, Math.abs(one[k])));
                }
            }
        }
    }
}
