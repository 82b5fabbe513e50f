package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.DataType;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;
import sdbatch.pipeline.testing.LoadRefusals;

/**
 * A config that disagrees with its checkpoint is reported, every key with both shapes, before a
 * single tensor is read or allocated: a config asking for huge shapes costs no memory.
 */
class ShapeCheckBeforeLoadingTest extends RandomVaeFolder {
    @Test
    void wrongShapeIsReportedWithKeyAndBothShapesBeforeAnyTensorIsAllocated() throws Exception {
        // The second level is 4096 channels wide in the config, 16 in the checkpoint: zero
        // stand-ins of the asked shapes would take gigabytes (4096x4096x3x3 per convolution).
        VaeConfig wide = VaeConfig.parse("wide", CONFIG.replace("[8, 16]", "[8, 4096]"));
        try (StateDictWeights weights = StateDictWeights.open(vae, manager, DataType.FLOAT32)) {
            ModelLoadException e =
                    LoadRefusals.refusedWithinAMinute(
                            () -> weights.checkShapes(w -> new AutoencoderKL(wide, w)));
            String m = e.getMessage();
            assertTrue(m.contains(vae.toString()), "names the folder: " + m);
            assertTrue(
                    m.contains(
                            "encoder.down_blocks.1.resnets.0.conv1.weight: checkpoint (16, 8, 3, 3),"
                                    + " config implies (4096, 8, 3, 3)"
                                    + " (diffusion_pytorch_model.safetensors)"),
                    "names the key, both shapes and the file: " + m);
            assertTrue(m.contains("shape mismatch"), m);
            // Nothing was read from the checkpoint and nothing allocated in the model's manager.
            assertEquals(0, manager.getManagedArrays().size(), "" + manager.getManagedArrays());
        }
    }

    @Test
    void loadReportsTheMismatchWithoutAllocating() throws Exception {
        Files.writeString(vae.resolve("config.json"), CONFIG.replace("[8, 16]", "[8, 4096]"));
        ModelLoadException e =
                LoadRefusals.refusedWithinAMinute(
                        () -> AutoencoderKL.load(vae, manager, DataType.FLOAT32));
        assertTrue(e.getMessage().contains("config implies (4096, 4096, 3, 3)"), e.getMessage());
        assertEquals(0, manager.getManagedArrays().size());
    }

    @Test
    void matchingCheckpointPassesTheCheckAndThenLoads() throws Exception {
        VaeConfig config = VaeConfig.parse("test", CONFIG);
        try (StateDictWeights weights = StateDictWeights.open(vae, manager, DataType.FLOAT32)) {
            weights.checkShapes(w -> new AutoencoderKL(config, w));
            assertEquals(0, manager.getManagedArrays().size(), "the check allocates nothing");
            try (AutoencoderKL model = new AutoencoderKL(config, weights)) {
                weights.finish();
                assertTrue(manager.getManagedArrays().size() > 0);
            }
        }
    }

    @Test
    void getWithoutAMatchNeverAllocatesAStandIn() throws Exception {
        try (StateDictWeights weights = StateDictWeights.open(vae, manager, DataType.FLOAT32)) {
            ModelLoadException e =
                    assertThrows(
                            ModelLoadException.class,
                            () ->
                                    weights.get(
                                            "decoder.conv_in.bias",
                                            new ai.djl.ndarray.types.Shape(1L << 40)));
            assertTrue(e.getMessage().contains("decoder.conv_in.bias"), e.getMessage());
            assertEquals(0, manager.getManagedArrays().size());
        }
    }
}
