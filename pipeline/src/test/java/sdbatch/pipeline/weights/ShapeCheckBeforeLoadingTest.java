package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;

/**
 * A config that disagrees with its checkpoint is reported, every key with both shapes, before a
 * single tensor is read or allocated: a config asking for huge shapes costs no memory.
 */
class ShapeCheckBeforeLoadingTest {
    private static final String VAE_CONFIG =
            "{\"block_out_channels\": [8, 16],"
                    + " \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                    + " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"],"
                    + " \"norm_num_groups\": 4, \"layers_per_block\": 1}";

    @TempDir Path dir;
    private NDManager manager;
    private Path vae;

    @BeforeEach
    void writeRandomVae() throws Exception {
        manager = NDManager.newBaseManager();
        vae = dir.resolve("vae");
        Files.createDirectories(vae);
        Files.writeString(vae.resolve("config.json"), VAE_CONFIG);
        try (NDManager scratch = NDManager.newBaseManager()) {
            RandomWeights random = new RandomWeights(7, scratch);
            try (AutoencoderKL built =
                    new AutoencoderKL(VaeConfig.parse("test", VAE_CONFIG), random)) {
                random.save(vae.resolve("diffusion_pytorch_model.safetensors"));
            }
        }
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void wrongShapeIsReportedWithKeyAndBothShapesBeforeAnyTensorIsAllocated() throws Exception {
        // The second level is 4096 channels wide in the config, 16 in the checkpoint: zero
        // stand-ins of the asked shapes would take gigabytes (4096x4096x3x3 per convolution).
        VaeConfig wide = VaeConfig.parse("wide", VAE_CONFIG.replace("[8, 16]", "[8, 4096]"));
        try (StateDictWeights weights = StateDictWeights.open(vae, manager, DataType.FLOAT32)) {
            ModelLoadException e =
                    assertTimeoutPreemptively(
                            Duration.ofSeconds(60),
                            () ->
                                    assertThrows(
                                            ModelLoadException.class,
                                            () ->
                                                    weights.checkShapes(
                                                            w -> new AutoencoderKL(wide, w))));
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
        Files.writeString(vae.resolve("config.json"), VAE_CONFIG.replace("[8, 16]", "[8, 4096]"));
        ModelLoadException e =
                assertTimeoutPreemptively(
                        Duration.ofSeconds(60),
                        () ->
                                assertThrows(
                                        ModelLoadException.class,
                                        () -> AutoencoderKL.load(vae, manager, DataType.FLOAT32)));
        assertTrue(e.getMessage().contains("config implies (4096, 4096, 3, 3)"), e.getMessage());
        assertEquals(0, manager.getManagedArrays().size());
    }

    @Test
    void matchingCheckpointPassesTheCheckAndThenLoads() throws Exception {
        VaeConfig config = VaeConfig.parse("test", VAE_CONFIG);
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
