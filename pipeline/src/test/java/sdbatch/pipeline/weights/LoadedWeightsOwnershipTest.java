package sdbatch.pipeline.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.config.VaeConfig;
import sdbatch.pipeline.models.AutoencoderKL;

/**
 * A loaded model's weights live in memory libtorch owns: not in views of the file's mapping (a
 * truncated file would kill the JVM with SIGBUS on the next forward) and not in Java direct buffers
 * (they would count against -XX:MaxDirectMemorySize, by default the heap size).
 */
class LoadedWeightsOwnershipTest {
    private static final String VAE_CONFIG =
            "{\"block_out_channels\": [32, 64],"
                    + " \"down_block_types\": [\"DownEncoderBlock2D\", \"DownEncoderBlock2D\"],"
                    + " \"up_block_types\": [\"UpDecoderBlock2D\", \"UpDecoderBlock2D\"],"
                    + " \"norm_num_groups\": 8, \"layers_per_block\": 1}";

    @TempDir Path dir;

    private static long used(String pool) {
        return ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals(pool))
                .mapToLong(BufferPoolMXBean::getMemoryUsed)
                .sum();
    }

    /** Java buffer memory (direct + mapped) after garbage that can be freed was freed. */
    private static long settledBufferBytes(long floor, int tries) throws InterruptedException {
        long now = Long.MAX_VALUE;
        for (int i = 0; i < tries && now > floor; i++) {
            System.gc();
            Thread.sleep(100);
            now = used("direct") + used("mapped");
        }
        return now;
    }

    @Test
    void loadedWeightsAreNeitherMappedNorJavaDirectMemory() throws Exception {
        Path vae = dir.resolve("vae");
        Files.createDirectories(vae);
        Files.writeString(vae.resolve("config.json"), VAE_CONFIG);
        Path file = vae.resolve("diffusion_pytorch_model.safetensors");
        try (NDManager scratch = NDManager.newBaseManager()) {
            RandomWeights random = new RandomWeights(3, scratch);
            try (AutoencoderKL built =
                    new AutoencoderKL(VaeConfig.parse("test", VAE_CONFIG), random)) {
                random.save(file);
            }
        }
        long weightBytes = Files.size(file);
        assertTrue(weightBytes > 1_000_000, "a model large enough to see: " + weightBytes);
        try (NDManager manager = NDManager.newBaseManager()) {
            long before = settledBufferBytes(0, 3);
            try (AutoencoderKL model = AutoencoderKL.load(vae, manager, DataType.FLOAT32)) {
                long held = settledBufferBytes(before + weightBytes / 4, 50) - before;
                assertTrue(
                        held < weightBytes / 4,
                        "the loaded model keeps "
                                + held
                                + " bytes of Java buffers (direct "
                                + used("direct")
                                + ", mapped "
                                + used("mapped")
                                + ") for "
                                + weightBytes
                                + " bytes of weights");
                // And it still computes after its file was truncated under it (views of a mapping
                // would raise SIGBUS inside libtorch here and kill the JVM).
                try (FileChannel w = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    w.truncate(8);
                }
                NDArray out = model.decode(manager.ones(new Shape(1, 4, 2, 2)));
                assertEquals(new Shape(1, 3, 4, 4), out.getShape());
            }
        }
    }
}
