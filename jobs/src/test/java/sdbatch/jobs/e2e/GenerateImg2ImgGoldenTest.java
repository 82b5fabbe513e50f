package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GoldenCases;
import sdbatch.jobs.testing.GoldenPixels;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.image.PngText;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.schemas.metadata.A1111Parameters;
import sdbatch.schemas.util.Hashes;

/**
 * {@code features.json}'s img2img and inpainting cases through {@code sdbatch generate}: one table
 * row per image, its {@code init_image} (and {@code mask_image}) a path relative to the table (the
 * table is written into a temporary folder beside a copy of the golden pictures). img2img rows give
 * no width or height (the picture's own size, as diffusers' img2img takes it); inpainting rows give
 * the case's. Each PNG must be within the case's {@code image_max_levels} of diffusers' image, and
 * its metadata and infotext must carry the pictures and the strength.
 */
class GenerateImg2ImgGoldenTest extends SharedSparkSession {
    @TempDir Path dir;

    @Test
    void img2imgCasesFromARelativeTableMatchDiffusers() throws Exception {
        runCases("img2img", "tiny-sd1");
    }

    @Test
    void inpaintingWithAnInpaintingUnetFromARelativeTableMatchesDiffusers() throws Exception {
        runCases("inpaint", "tiny-sd1-inpaint");
    }

    @Test
    void inpaintingWithAnOrdinaryUnetFromARelativeTableMatchesDiffusers() throws Exception {
        runCases("inpaint", "tiny-sd1");
    }

    private void runCases(String kind, String model) throws Exception {
        boolean inpaint = kind.equals("inpaint");
        Path golden = SharedData.golden();
        List<JsonObject> cases = new ArrayList<>();
        for (JsonObject c : GoldenCases.read(golden, "features.json", "cases")) {
            if (c.get("kind").getAsString().equals(kind)
                    && c.get("model").getAsString().equals(model)) {
                cases.add(c);
            }
        }
        assertTrue(cases.size() >= 1, "features.json has " + kind + " cases on " + model);

        Path table = Files.createDirectories(dir.resolve("table"));
        Path pics = Files.createDirectories(table.resolve("pictures"));
        List<JsonObject> tableRows =
                GoldenCases.tableRows(cases, (c, i) -> row(c, i, inpaint, golden, pics));
        Path input = GoldenCases.writeTable(table.resolve(kind + ".jsonl"), tableRows);
        Path out = dir.resolve("out");
        List<Row> rows = generate(input, out, GoldenCases.generateFlags(golden, model));

        assertEquals(tableRows.size(), rows.size());

        try (SafetensorsFile ref =
                SafetensorsFile.open(golden.resolve("features-" + kind + ".safetensors"))) {
            for (JsonObject c : cases) {
                checkCase(c, rows, ref, out, pics);
            }
        }
    }

    /**
     * Image {@code i} of case {@code c} as a table row, its pictures (the mask too where {@code
     * inpaint}) copied to {@code pics}.
     */
    private static JsonObject row(JsonObject c, int i, boolean inpaint, Path golden, Path pics)
            throws java.io.IOException {
        String init = copyPicture(c, "init", i, golden, pics);
        JsonObject row = GoldenCases.row(c, i);
        row.addProperty("guidance_scale", c.get("guidance_scale").getAsDouble());
        GoldenCases.addScheduler(row, c);
        row.addProperty("init_image", "pictures/" + init);
        if (inpaint) {
            row.addProperty("mask_image", "pictures/" + copyPicture(c, "mask", i, golden, pics));
            row.addProperty("width", c.get("width").getAsInt());
            row.addProperty("height", c.get("height").getAsInt());
        }
        row.addProperty("strength", c.get("strength").getAsDouble());
        return row;
    }

    /** The case's {@code key} picture of image {@code i}, copied beside the table once. */
    private static String copyPicture(JsonObject c, String key, int i, Path golden, Path pics)
            throws java.io.IOException {
        String name = c.getAsJsonArray(key).get(i).getAsString();
        Path copy = pics.resolve(name);
        if (!Files.exists(copy)) {
            Files.copy(golden.resolve("inputs").resolve(name), copy);
        }
        return name;
    }

    private static void checkCase(
            JsonObject c, List<Row> all, SafetensorsFile ref, Path out, Path pics)
            throws Exception {
        String name = c.get("name").getAsString();
        int w = c.get("width").getAsInt();
        int h = c.get("height").getAsInt();
        int images = c.getAsJsonArray("prompt").size();
        long[] refImage = ref.readLongs(name + "/image");
        int perImage = refImage.length / images;
        assertEquals(w * h * 3, perImage, name);
        GoldenPixels.CaseCheck pixels = new GoldenPixels.CaseCheck(c);
        List<Row> rows = GoldenCases.rowsOf(all, c);
        assertEquals(images, rows.size(), name);
        for (Row r : rows) {
            assertEquals("ok", r.getAs("status"), name + ": " + r.getAs("error"));
            int i = (int) (long) r.<Long>getAs("image_index");
            assertPicture(r, "init_image", c.getAsJsonArray("init").get(i).getAsString(), pics);
            if (c.has("mask")) {
                assertPicture(r, "mask_image", c.getAsJsonArray("mask").get(i).getAsString(), pics);
            }
            assertEquals(c.get("strength").getAsDouble(), (double) r.<Double>getAs("strength"));
            byte[] png = Files.readAllBytes(out.resolve(r.<String>getAs("image_path")));
            A1111Parameters p = A1111Parameters.parse(PngText.read(png).get("parameters"));
            assertEquals(c.get("strength").getAsDouble(), p.denoisingStrength(), name);
            pixels.add(png, refImage, i * perImage);
        }
        pixels.assertWithin("golden via sdbatch generate (relative picture paths)");
    }

    /**
     * Metadata row {@code r} names picture {@code file} (under {@code pics}) in {@code column} and
     * carries its SHA-256 in {@code column_sha256}.
     */
    private static void assertPicture(Row r, String column, String file, Path pics)
            throws java.io.IOException {
        String name = r.getAs("case");
        assertEquals("file:" + pics.resolve(file), r.getAs(column), name);
        assertEquals(
                Hashes.sha256Hex(Files.readAllBytes(pics.resolve(file))),
                r.getAs(column + "_sha256"),
                name);
    }
}
