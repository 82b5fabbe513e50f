package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * The same input gives byte-identical PNGs with 1 and 3 partitions (one image, one computation,
 * wherever it runs), and images within 1 level with batch size 1 and 4 (batched UNet calls may
 * round differently).
 */
class DeterminismTest extends SharedSparkSession {
    @TempDir static Path dir;

    private static Path model;
    private static Path input;

    @BeforeAll
    static void tinyModelAndTable() throws Exception {
        model = TinyModels.write(dir.resolve("tiny"), TinyModels.Variant.SD1, 3);
        input = dir.resolve("prompts.csv");
        Files.writeString(
                input,
                String.join(
                        "\n",
                        "prompt,guidance_scale",
                        "a red fox,7.5",
                        "a lighthouse at dawn,3",
                        "a bowl of ramen,",
                        ""));
    }

    /** image_id → PNG bytes of one run. */
    private Map<String, byte[]> run(String name, String... extra) throws Exception {
        Path out = dir.resolve(name);
        List<String> args = GenerateArgs.twoSteps(input, out, model, "--images-per-prompt", "2");
        args.addAll(List.of(extra));
        GenerateArgs.CliRun job = GenerateArgs.run(args);
        assertEquals(0, job.code(), job.text());
        Map<String, byte[]> images = new TreeMap<>();
        try (var files = Files.walk(out.resolve("images"))) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                images.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        assertEquals(6, images.size(), name);
        return images;
    }

    @Test
    void partitionCountsGiveIdenticalBytesAndBatchSizesOneLevel() throws Exception {
        Map<String, byte[]> one = run("p1", "--partitions", "1", "--batch-size", "1");
        Map<String, byte[]> three = run("p3", "--partitions", "3", "--batch-size", "1");
        assertEquals(one.keySet(), three.keySet());
        for (String id : one.keySet()) {
            assertArrayEquals(one.get(id), three.get(id), id);
        }
        Map<String, byte[]> batched = run("b4", "--partitions", "1", "--batch-size", "4");
        assertEquals(one.keySet(), batched.keySet());
        for (String id : one.keySet()) {
            int max = maxLevelDifference(one.get(id), batched.get(id));
            assertTrue(max <= 1, id + ": batch size 4 differs by " + max + " levels");
        }
    }

    @Test
    void bf16ComputeStaysCloseAndALaterFp32JobIsExactAgain() throws Exception {
        Map<String, byte[]> fp32 = run("f1", "--partitions", "1");
        Map<String, byte[]> bf16 = run("h1", "--partitions", "1", "--dtype", "bf16");
        int worst = 0;
        for (String id : fp32.keySet()) {
            worst = Math.max(worst, maxLevelDifference(fp32.get(id), bf16.get(id)));
        }
        // bfloat16 arithmetic changes the images a little (8 mantissa bits), not a lot.
        assertTrue(worst > 0 && worst <= 16, "bf16 vs fp32: " + worst + " levels");
        // The executor's cached fp32 pipeline must compute in fp32 again.
        Map<String, byte[]> again = run("f2", "--partitions", "1");
        for (String id : fp32.keySet()) {
            assertArrayEquals(fp32.get(id), again.get(id), id);
        }
    }

    private static int maxLevelDifference(byte[] pngA, byte[] pngB) throws Exception {
        BufferedImage a = ImageIO.read(new java.io.ByteArrayInputStream(pngA));
        BufferedImage b = ImageIO.read(new java.io.ByteArrayInputStream(pngB));
        int max = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int s = 0; s <= 16; s += 8) {
                    max = Math.max(max, Math.abs(((p >> s) & 0xFF) - ((q >> s) & 0xFF)));
                }
            }
        }
        return max;
    }
}
