package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GoldenCases;
import sdbatch.jobs.testing.GoldenPixels;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.image.PngText;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.schemas.SchedulerNames;
import sdbatch.schemas.metadata.A1111Parameters;

/**
 * Every pipeline case of {@code ../shared/golden/manifest.json}, written as prompt-table rows (one
 * row per image: the batch case is two rows with their own seeds and negative prompts; scheduler =
 * the case's alias, null for "default"; scheduler_config = its overrides) and run through {@code
 * sdbatch generate} in-process, one run per golden model in one Spark session. Each PNG must be
 * within the case's {@code image_max_levels} of diffusers' image; the metadata must have one row
 * per request with the passthrough columns, and each PNG's A1111 {@code parameters} chunk must
 * agree with its metadata row.
 */
class GenerateGoldenTest extends SharedSparkSession {
    private static final List<String> MODELS = List.of("tiny-sd1", "tiny-sd2v");

    @TempDir static Path dir;

    private Path golden;
    private final List<JsonObject> cases = new ArrayList<>();
    private final Map<String, Integer> inputRows = new HashMap<>();
    private final Map<String, Path> outputs = new HashMap<>();
    private final Map<String, List<Row>> metadata = new HashMap<>();

    @BeforeAll
    void runBothModels() throws Exception {
        golden = SharedData.golden();
        cases.addAll(GoldenCases.read(golden, "manifest.json", "pipeline"));
        for (String model : MODELS) {
            List<JsonObject> rows =
                    GoldenCases.tableRows(
                            cases.stream()
                                    .filter(c -> c.get("model").getAsString().equals(model))
                                    .toList(),
                            GenerateGoldenTest::row);
            Path input = GoldenCases.writeTable(dir.resolve(model + ".jsonl"), rows);
            inputRows.put(model, rows.size());
            Path out = dir.resolve("out-" + model);
            metadata.put(
                    model,
                    generate(
                            input,
                            out,
                            GoldenCases.generateFlags(golden, model, "--progress-interval", "30")));
            outputs.put(model, out);
        }
    }

    /** Image {@code i} of case {@code c} as a table row. */
    private static JsonObject row(JsonObject c, int i) {
        JsonObject row = GoldenCases.row(c, i);
        row.addProperty("status", "user-" + i); // renamed input_status in metadata
        row.addProperty("guidance_scale", c.get("guidance_scale").getAsDouble());
        GoldenCases.addScheduler(row, c);
        JsonObject overrides = c.getAsJsonObject("scheduler_overrides");
        if (overrides.size() > 0) {
            row.addProperty("scheduler_config", overrides.toString());
        }
        row.addProperty("eta", c.get("eta").getAsDouble());
        if (!c.get("clip_skip").isJsonNull()) {
            row.addProperty("clip_skip", c.get("clip_skip").getAsInt());
        }
        row.addProperty("width", c.get("width").getAsInt());
        row.addProperty("height", c.get("height").getAsInt());
        return row;
    }

    @Test
    void oneMetadataRowPerRequestWithPassthroughColumns() {
        for (String model : MODELS) {
            List<Row> rows = metadata.get(model);
            assertEquals(inputRows.get(model), rows.size(), model);
            for (Row r : rows) {
                assertEquals("ok", r.getAs("status"), String.valueOf((Object) r.getAs("error")));
                assertTrue(r.<String>getAs("case").startsWith(model.substring(5)));
                assertEquals(
                        "user-" + r.<Long>getAs("image_index"), r.getAs("input_status"), model);
                assertTrue(r.<String>getAs("model").contains("#sha256="));
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyCaseMatchesDiffusers() {
        return DynamicTest.stream(
                cases.stream(), c -> "golden " + c.get("name").getAsString(), this::checkCase);
    }

    private void checkCase(JsonObject c) throws Exception {
        String name = c.get("name").getAsString();
        String model = c.get("model").getAsString();
        int w = c.get("width").getAsInt();
        int h = c.get("height").getAsInt();
        List<Row> rows = GoldenCases.rowsOf(metadata.get(model), c);
        int images = c.getAsJsonArray("prompt").size();
        assertEquals(images, rows.size(), name + ": metadata rows");
        try (SafetensorsFile ref =
                SafetensorsFile.open(golden.resolve("pipeline-" + model + ".safetensors"))) {
            long[] refImage = ref.readLongs(name + "/image");
            int perImage = refImage.length / images;
            GoldenPixels.CaseCheck pixels = new GoldenPixels.CaseCheck(c);
            for (Row r : rows) {
                int i = (int) (long) r.<Long>getAs("image_index");
                byte[] png =
                        Files.readAllBytes(
                                outputs.get(model).resolve(r.<String>getAs("image_path")));
                assertEquals(w * h * 3, perImage, name);
                pixels.add(png, refImage, i * perImage);
                // The PNG's A1111 parameters agree with the metadata row.
                A1111Parameters p = A1111Parameters.parse(PngText.read(png).get("parameters"));
                assertEquals((long) r.<Long>getAs("seed"), p.seed(), name);
                assertEquals((int) r.<Integer>getAs("steps"), p.steps(), name);
                assertEquals(r.<Double>getAs("guidance_scale"), p.cfgScale(), 1e-9, name);
                assertEquals((int) r.<Integer>getAs("width"), p.width(), name);
                assertEquals((int) r.<Integer>getAs("height"), p.height(), name);
                assertEquals(
                        SchedulerNames.lookup(r.getAs("scheduler")).orElseThrow().a1111Name(),
                        p.sampler(),
                        name);
                assertEquals(r.<String>getAs("prompt"), p.prompt(), name);
            }
            pixels.assertWithin("golden via sdbatch generate");
        }
    }
}
