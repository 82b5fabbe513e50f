package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GoldenCases;
import sdbatch.jobs.testing.GoldenPixels;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.image.PngText;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.schemas.metadata.A1111Parameters;

/**
 * Every {@code sdxl} and {@code sdxl-img2img} case of {@code features.json} as rows of one prompt
 * table through {@code sdbatch generate} on {@code tiny-sdxl} (issues 16 and 17): {@code
 * negative_prompt} null where the case has none and {@code ""} where it has the empty string (two
 * different images on SDXL), the micro-conditioning columns ({@code original_size} and {@code
 * target_size} are [h, w], {@code crops} [top, left]), {@code clip_skip}, {@code guidance_rescale},
 * and the img2img row's {@code init_image} a path relative to the table. Rows whose case uses
 * SDXL's default guidance scale (5.0) leave {@code guidance_scale} null, so the job must take the
 * family's default, not SD's 7.5. Each PNG must be within the case's {@code image_max_levels} of
 * diffusers' image. CPU, float32.
 */
class GenerateSdxlGoldenTest extends SharedSparkSession {
    @TempDir static Path dir;

    private Path golden;
    private Path out;
    private final List<JsonObject> cases = new ArrayList<>();
    private List<Row> metadata;

    @BeforeAll
    void runEveryCaseInOneJob() throws Exception {
        golden = SharedData.golden();
        for (JsonObject c : GoldenCases.read(golden, "features.json", "cases")) {
            if (c.get("kind").getAsString().startsWith("sdxl")) {
                assertEquals("tiny-sdxl", c.get("model").getAsString());
                cases.add(c);
            }
        }
        assertTrue(cases.size() >= 2, "features.json has SDXL cases");

        Path table = Files.createDirectories(dir.resolve("table"));
        Path pics = Files.createDirectories(table.resolve("pictures"));
        List<JsonObject> tableRows = GoldenCases.tableRows(cases, (c, i) -> row(c, i, pics));
        Path input = GoldenCases.writeTable(table.resolve("sdxl.jsonl"), tableRows);
        out = dir.resolve("out");
        metadata = generate(input, out, GoldenCases.generateFlags(golden, "tiny-sdxl"));

        assertEquals(tableRows.size(), metadata.size());
    }

    /** Image {@code i} of case {@code c} as a table row. */
    private static JsonObject row(JsonObject c, int i, Path pics) throws java.io.IOException {
        JsonObject row = GoldenCases.row(c, i);
        double guidance = c.get("guidance_scale").getAsDouble();
        if (guidance != 5.0) {
            row.addProperty("guidance_scale", guidance);
        }
        GoldenCases.addScheduler(row, c);
        if (c.has("clip_skip")) {
            row.addProperty("clip_skip", c.get("clip_skip").getAsInt());
        }
        if (c.has("guidance_rescale")) {
            row.addProperty("guidance_rescale", c.get("guidance_rescale").getAsDouble());
        }
        if (c.has("original_size")) {
            row.addProperty("original_height", c.getAsJsonArray("original_size").get(0).getAsInt());
            row.addProperty("original_width", c.getAsJsonArray("original_size").get(1).getAsInt());
        }
        if (c.has("crops")) {
            row.addProperty("crop_top", c.getAsJsonArray("crops").get(0).getAsInt());
            row.addProperty("crop_left", c.getAsJsonArray("crops").get(1).getAsInt());
        }
        if (c.has("target_size")) {
            row.addProperty("target_height", c.getAsJsonArray("target_size").get(0).getAsInt());
            row.addProperty("target_width", c.getAsJsonArray("target_size").get(1).getAsInt());
        }
        row.addProperty("width", c.get("width").getAsInt());
        row.addProperty("height", c.get("height").getAsInt());
        if (c.has("init")) {
            String name = c.getAsJsonArray("init").get(i).getAsString();
            Path copy = pics.resolve(name);
            if (!Files.exists(copy)) {
                Files.copy(SharedData.golden().resolve("inputs").resolve(name), copy);
            }
            row.addProperty("init_image", "pictures/" + name);
            row.addProperty("strength", c.get("strength").getAsDouble());
        }
        return row;
    }

    @TestFactory
    Stream<DynamicTest> everySdxlCaseMatchesDiffusers() {
        return DynamicTest.stream(
                cases.stream(), c -> "sdxl golden " + c.get("name").getAsString(), this::checkCase);
    }

    private void checkCase(JsonObject c) throws Exception {
        String name = c.get("name").getAsString();
        String kind = c.get("kind").getAsString();
        int images = c.getAsJsonArray("prompt").size();
        List<Row> rows = GoldenCases.rowsOf(metadata, c);
        assertEquals(images, rows.size(), name + ": metadata rows");
        GoldenPixels.CaseCheck pixels = new GoldenPixels.CaseCheck(c);
        try (SafetensorsFile ref =
                SafetensorsFile.open(golden.resolve("features-" + kind + ".safetensors"))) {
            long[] refImage = ref.readLongs(name + "/image");
            int perImage = refImage.length / images;
            for (Row r : rows) {
                assertEquals("ok", r.getAs("status"), name + ": " + r.getAs("error"));
                int i = (int) (long) r.<Long>getAs("image_index");
                double guidance = c.get("guidance_scale").getAsDouble();
                assertEquals(guidance, (double) r.<Double>getAs("guidance_scale"), name);
                JsonElement negative = c.get("negative_prompt");
                if (negative.isJsonNull()) {
                    assertNull(r.getAs("negative_prompt"), name + ": null stays null");
                } else {
                    assertEquals(
                            negative.getAsJsonArray().get(i).getAsString(),
                            r.getAs("negative_prompt"),
                            name);
                }
                byte[] png = Files.readAllBytes(out.resolve(r.<String>getAs("image_path")));
                A1111Parameters p = A1111Parameters.parse(PngText.read(png).get("parameters"));
                assertEquals(guidance, p.cfgScale(), name + ": infotext CFG scale");
                pixels.add(png, refImage, i * perImage);
            }
        }
        pixels.assertWithin("sdxl golden via sdbatch generate");
    }
}
