package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GoldenCases;
import sdbatch.jobs.testing.GoldenPixels;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.image.PngText;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.schemas.util.Hashes;

/**
 * {@code features.json}'s ControlNet, LoRA and textual-inversion cases on tiny-sd1, with a plain
 * text-to-image row, through {@code sdbatch generate} in <b>one</b> job over one table: rows with
 * and without a ControlNet, with different LoRA sets and with none, {@code --embeddings} set for
 * all. The ControlNet folder, the control pictures and the LoRAs are copied beside the table and
 * named by paths relative to it. Each PNG must be within its case's {@code image_max_levels} of
 * diffusers' image ({@code features-<kind>.safetensors}, {@code <name>/image}), and the metadata
 * must carry each LoRA's and the control picture's SHA-256.
 */
class GenerateAdaptersGoldenTest extends SharedSparkSession {
    private static final Set<String> KINDS = Set.of("controlnet", "lora", "ti");
    private static final String PLAIN = "sd1-clip-skip-negative";

    @TempDir Path dir;

    @Test
    void controlNetLoraAndEmbeddingCasesInOneJobMatchDiffusers() throws Exception {
        Path golden = SharedData.golden();
        List<JsonObject> cases = new ArrayList<>();
        for (JsonObject c : GoldenCases.read(golden, "features.json", "cases")) {
            if (c.get("model").getAsString().equals("tiny-sd1")
                    && (KINDS.contains(c.get("kind").getAsString())
                            || c.get("name").getAsString().equals(PLAIN))) {
                cases.add(c);
            }
        }
        assertEquals(
                Set.of("controlnet", "lora", "ti", "txt2img"),
                Set.copyOf(cases.stream().map(c -> c.get("kind").getAsString()).toList()));

        Path table = Files.createDirectories(dir.resolve("table"));
        copyTree(golden.resolve("controlnet-tiny-sd1"), table.resolve("cn"));
        copyTree(golden.resolve("loras"), table.resolve("loras"));
        copyTree(golden.resolve("inputs"), table.resolve("pictures"));
        for (JsonObject c : cases) {
            assertEquals(0, c.getAsJsonObject("scheduler_overrides").size(), "overrides");
        }
        List<JsonObject> tableRows = GoldenCases.tableRows(cases, GenerateAdaptersGoldenTest::row);
        Path input = GoldenCases.writeTable(table.resolve("adapters.jsonl"), tableRows);
        Path out = dir.resolve("out");
        List<Row> rows =
                generate(
                        input,
                        out,
                        GoldenCases.generateFlags(
                                golden,
                                "tiny-sd1",
                                "--embeddings",
                                golden.resolve("embeddings").toString()));

        assertEquals(tableRows.size(), rows.size());
        for (JsonObject c : cases) {
            checkCase(c, rows, golden, out, table);
        }
    }

    /** Image {@code i} of case {@code c} as a table row. */
    private static JsonObject row(JsonObject c, int i) {
        JsonObject row = GoldenCases.row(c, i);
        row.addProperty("guidance_scale", c.get("guidance_scale").getAsDouble());
        row.addProperty("scheduler", c.get("scheduler").getAsString());
        row.addProperty("width", c.get("width").getAsInt());
        row.addProperty("height", c.get("height").getAsInt());
        if (c.has("clip_skip") && !c.get("clip_skip").isJsonNull()) {
            row.addProperty("clip_skip", c.get("clip_skip").getAsInt());
        }
        if (c.get("kind").getAsString().equals("controlnet")) {
            row.addProperty("controlnet", "cn");
            row.addProperty(
                    "control_image",
                    "pictures/" + c.getAsJsonArray("control").get(i).getAsString());
            row.addProperty("controlnet_conditioning_scale", c.get("cn_scale").getAsDouble());
            if (c.has("cn_start")) {
                row.addProperty("control_guidance_start", c.get("cn_start").getAsDouble());
                row.addProperty("control_guidance_end", c.get("cn_end").getAsDouble());
            }
        }
        List<String> loras = new ArrayList<>();
        for (JsonElement l : c.getAsJsonArray("loras")) {
            JsonObject o = l.getAsJsonObject();
            loras.add("loras/" + o.get("file").getAsString() + ":" + o.get("weight").getAsDouble());
        }
        if (!loras.isEmpty()) {
            row.addProperty("loras", String.join(";", loras));
        }
        return row;
    }

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    private static void checkCase(JsonObject c, List<Row> all, Path golden, Path out, Path table)
            throws Exception {
        String name = c.get("name").getAsString();
        String kind = c.get("kind").getAsString();
        int w = c.get("width").getAsInt();
        int h = c.get("height").getAsInt();
        int images = c.getAsJsonArray("prompt").size();
        long[] refImage;
        try (SafetensorsFile ref =
                SafetensorsFile.open(golden.resolve("features-" + kind + ".safetensors"))) {
            refImage = ref.readLongs(name + "/image");
        }
        int perImage = refImage.length / images;
        assertEquals(w * h * 3, perImage, name);
        List<Row> rows = GoldenCases.rowsOf(all, c);
        assertEquals(images, rows.size(), name);
        GoldenPixels.CaseCheck pixels = new GoldenPixels.CaseCheck(c);
        for (Row r : rows) {
            assertEquals("ok", r.getAs("status"), name + ": " + r.getAs("error"));
            int i = (int) (long) r.<Long>getAs("image_index");
            if (kind.equals("controlnet")) {
                Path control =
                        table.resolve("pictures")
                                .resolve(c.getAsJsonArray("control").get(i).getAsString());
                assertEquals(
                        Hashes.sha256Hex(Files.readAllBytes(control)),
                        r.getAs("control_image_sha256"),
                        name);
                assertNotNull(r.getAs("controlnet_sha256"), name);
            } else {
                assertNull(r.getAs("controlnet_sha256"), name);
            }
            List<String> shas = new ArrayList<>();
            for (JsonElement l : c.getAsJsonArray("loras")) {
                shas.add(
                        Hashes.sha256Hex(
                                Files.readAllBytes(
                                        table.resolve("loras")
                                                .resolve(
                                                        l.getAsJsonObject()
                                                                .get("file")
                                                                .getAsString()))));
            }
            assertEquals(shas.isEmpty() ? null : String.join(";", shas), r.getAs("lora_sha256"));
            byte[] png = Files.readAllBytes(out.resolve(r.<String>getAs("image_path")));
            String infotext = PngText.read(png).get("parameters");
            assertEquals(!shas.isEmpty(), infotext.contains("Lora hashes: "), name + infotext);
            pixels.add(png, refImage, i * perImage);
        }
        pixels.assertWithin("golden via sdbatch generate (one job, --embeddings)");
    }
}
