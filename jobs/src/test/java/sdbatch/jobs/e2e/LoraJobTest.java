package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * LoRAs through {@code sdbatch generate} on tiny-sd1 with the golden LoRAs: a partition of many
 * rows over a few LoRA sets merges once per set (not once per row or per switch), a bad LoRA file
 * makes only its row invalid naming the file, and a bad {@code --lora} flag stops the job (exit 2).
 * Bad ControlNet rows (missing folder, missing or non-picture control picture, none at all) are
 * invalid the same way.
 */
class LoraJobTest extends SharedSparkSession {
    @TempDir Path dir;

    private Path table() throws Exception {
        return LoraRows.tableWithGoldenLoras(dir);
    }

    private static JsonObject row(String id, int seed, String loras) {
        return LoraRows.row("a lighthouse", id, seed, loras);
    }

    private GenerateArgs.CliRun run(Path input, Path out, String... more) {
        return run(1, input, out, more);
    }

    private GenerateArgs.CliRun run(int partitions, Path input, Path out, String... more) {
        return GenerateArgs.run(LoraRows.generateArgs(input, out, partitions, more));
    }

    @Test
    void manyRowsOverTwoLoraSetsMergeOncePerSet() throws Exception {
        assertMergesOncePerSet(1, 0.37, 0.41);
    }

    @Test
    void twoPartitionsOnOneExecutorMergeOncePerSet() throws Exception {
        // Interleaved rows over two partitions that run at once (local[2]) on the JVM's one
        // pipeline. This passes with plain LPT too (the two tasks then reach each set together
        // and share its merge); LoraPartitionPlanJobTest is the test of the planner's grouping.
        assertMergesOncePerSet(2, 0.29, 0.53);
    }

    private void assertMergesOncePerSet(int partitions, double kohyaWeight, double peftWeight)
            throws Exception {
        Path table = table();
        // Weights no other test uses: the cached pipeline cannot already hold one of these sets.
        String[] sets = {
            "loras/lora-kohya-sd1.safetensors:" + kohyaWeight,
            null,
            "loras/lora-peft-sd1.safetensors:" + peftWeight
        };
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            lines.add(row("r" + i, 100 + i, sets[i % 3]).toString());
        }
        Path input = table.resolve("many.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);

        StableDiffusionPipeline pipeline = LoraRows.tinySd1Pipeline();
        long before = pipeline.loraWeights().mergeCount();

        GenerateArgs.CliRun run = run(partitions, input, dir.resolve("out-" + partitions));
        assertEquals(0, run.code(), run.text());
        List<Row> rows = metadata(dir.resolve("out-" + partitions));
        assertEquals(12, rows.size());
        for (Row r : rows) {
            assertEquals("ok", r.getAs("status"), r.<String>getAs("error"));
        }
        assertEquals(
                2,
                pipeline.loraWeights().mergeCount() - before,
                "one merge per LoRA set (8 LoRA rows, interleaved with plain ones, "
                        + partitions
                        + " partitions)");
    }

    @Test
    void badLoraFilesMakeOnlyTheirRowInvalidNamingTheFile() throws Exception {
        Path table = table();
        Path loras = table.resolve("loras");
        new SafetensorsWriter()
                .add(
                        "lora_unet_down_blocks_0_attentions_0_proj_in.hada_w1_a",
                        new long[] {2, 2},
                        new float[4])
                .write(loras.resolve("loha.safetensors"));
        Files.write(loras.resolve("style.pt"), new byte[] {(byte) 0x80, 2});
        List<String> lines =
                List.of(
                        row("plain", 1, null).toString(),
                        row("good", 2, "loras/lora-kohya-sd1.safetensors").toString(),
                        row("missing", 3, "loras/nowhere.safetensors:0.5").toString(),
                        row("lycoris", 4, "loras/loha.safetensors").toString(),
                        row("pickle", 5, "loras/style.pt").toString());
        Path input = table.resolve("bad.jsonl");
        Files.write(input, lines, StandardCharsets.UTF_8);
        GenerateArgs.CliRun run = run(input, dir.resolve("out"));
        assertEquals(3, run.code(), run.text());
        Map<String, Row> byId = metadataById(dir.resolve("out"));
        assertEquals("ok", byId.get("plain").getAs("status"));
        assertEquals(
                "ok", byId.get("good").getAs("status"), byId.get("good").<String>getAs("error"));
        Map<String, List<String>> expected =
                Map.of(
                        "missing", List.of("loras", "nowhere.safetensors"),
                        "lycoris", List.of("loras", "loha.safetensors", "LoHa"),
                        "pickle", List.of("loras", "style.pt", "safetensors"));
        assertInvalid(byId, expected);
    }

    @Test
    void badControlNetRowsAreInvalidNamingTheFile() throws Exception {
        Path table = table();
        Path pics = Files.createDirectories(table.resolve("pictures"));
        Files.copy(SharedData.golden().resolve("inputs/control-a.png"), pics.resolve("a.png"));
        Files.write(pics.resolve("notes.png"), "not a picture".getBytes(StandardCharsets.UTF_8));
        String cn = SharedData.golden().resolve("controlnet-tiny-sd1").toString();
        JsonObject missingFolder = row("missing-folder", 1, null);
        missingFolder.addProperty("controlnet", "nowhere-cn");
        missingFolder.addProperty("control_image", "pictures/a.png");
        JsonObject missingPicture = row("missing-picture", 2, null);
        missingPicture.addProperty("controlnet", cn);
        missingPicture.addProperty("control_image", "pictures/gone.png");
        JsonObject notAPicture = row("not-a-picture", 3, null);
        notAPicture.addProperty("controlnet", cn);
        notAPicture.addProperty("control_image", "pictures/notes.png");
        JsonObject noPicture = row("no-picture", 4, null);
        noPicture.addProperty("controlnet", cn);
        Path input = table.resolve("cn.jsonl");
        Files.write(
                input,
                List.of(
                        row("plain", 5, null).toString(),
                        missingFolder.toString(),
                        missingPicture.toString(),
                        notAPicture.toString(),
                        noPicture.toString()),
                StandardCharsets.UTF_8);
        GenerateArgs.CliRun run = run(input, dir.resolve("out"));
        assertEquals(3, run.code(), run.text());
        Map<String, Row> byId = metadataById(dir.resolve("out"));
        assertEquals("ok", byId.get("plain").getAs("status"));
        Map<String, List<String>> expected =
                Map.of(
                        "missing-folder", List.of("controlnet", "nowhere-cn"),
                        "missing-picture", List.of("control_image", "gone.png"),
                        "not-a-picture", List.of("control_image", "notes.png"),
                        "no-picture", List.of("controlnet", "needs a control picture"));
        assertInvalid(byId, expected);
    }

    /** Each named row is invalid with an error holding every given part. */
    private static void assertInvalid(Map<String, Row> byId, Map<String, List<String>> expected) {
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            Row r = byId.get(e.getKey());
            assertEquals("invalid", r.getAs("status"), e.getKey());
            String error = r.getAs("error");
            for (String part : e.getValue()) {
                assertTrue(error.contains(part), e.getKey() + ": " + error);
            }
        }
    }

    @Test
    void aBadLoraFlagStopsTheJobWithExitTwo() throws Exception {
        Path table = table();
        Path input = table.resolve("one.jsonl");
        Files.write(input, List.of(row("plain", 1, null).toString()), StandardCharsets.UTF_8);
        GenerateArgs.CliRun run =
                run(
                        input,
                        dir.resolve("out"),
                        "--lora",
                        dir.resolve("nowhere.safetensors").toString());
        assertEquals(2, run.code(), run.text());
        assertTrue(run.text().contains("nowhere.safetensors"), run.text());
    }
}
