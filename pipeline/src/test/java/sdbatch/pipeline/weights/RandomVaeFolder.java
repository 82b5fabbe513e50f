package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;

/**
 * Tests on a small but complete VAE folder (2 levels, 1 layer per block, 4 groups) of random
 * weights, written afresh for each test, with a manager of their own that starts empty.
 */
abstract class RandomVaeFolder {
    /** The VAE's {@code config.json}. */
    static final String CONFIG =
            "{\"_class_name\": \"AutoencoderKL\", \"block_out_channels\": [8, 16],"
                    + " \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                    + " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"],"
                    + " \"norm_num_groups\": 4, \"layers_per_block\": 1}";

    @TempDir Path dir;

    /** The test's manager (nothing of the folder's writing is left in it). */
    NDManager manager;

    /** The VAE folder, {@code dir/vae}. */
    Path vae;

    @BeforeEach
    void writeRandomVae() throws IOException {
        manager = NDManager.newBaseManager();
        vae = dir.resolve("vae");
        Files.createDirectories(vae);
        Files.writeString(vae.resolve("config.json"), CONFIG);
        try (NDManager scratch = NDManager.newBaseManager()) {
            RandomWeights random = new RandomWeights(7, scratch);
            try (AutoencoderKL built = new AutoencoderKL(VaeConfig.parse("test", CONFIG), random)) {
                random.save(vae.resolve("diffusion_pytorch_model.safetensors"));
            }
        }
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }
}
