package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.testing.GoldenCases;
import sdbatch.jobs.testing.GoldenPixels;
import sdbatch.jobs.testing.SharedSparkSession;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * Every case of {@code ../shared/golden/sd3.json} as prompt-table rows (prompt, negative_prompt
 * null where the case has none, prompt_2/prompt_3, clip_skip, max_sequence_length,
 * scheduler_config) through {@code sdbatch generate} in-process: one run on tiny-sd3, one on
 * tiny-sd3 with {@code --without-t5} (the case without T5), one on tiny-sd35. Each PNG must be
 * within the case's {@code image_max_levels} of diffusers' image, every row ok. CPU, float32.
 */
class GenerateSd3GoldenTest extends SharedSparkSession {
    @TempDir static Path dir;

    private Path golden;
    private final List<JsonObject> cases = new ArrayList<>();
    private final Map<String, Path> outputs = new HashMap<>();
    private final Map<String, List<Row>> metadata = new HashMap<>();

    /** The run a case belongs to: its model, and whether T5 is left out. */
    private static String runOf(JsonObject c) {
        boolean t5 = !c.has("t5") || c.get("t5").getAsBoolean();
        return c.get("model").getAsString() + (t5 ? "" : "-without-t5");
    }

    @BeforeAll
    void runEveryModel() throws Exception {
        golden = SharedData.golden();
        cases.addAll(GoldenCases.read(golden, "sd3.json", "cases"));
        for (String run : cases.stream().map(GenerateSd3GoldenTest::runOf).distinct().toList()) {
            List<JsonObject> tableRows =
                    GoldenCases.tableRows(
                            cases.stream().filter(c -> runOf(c).equals(run)).toList(),
                            GenerateSd3GoldenTest::row);
            Path input = GoldenCases.writeTable(dir.resolve(run + ".jsonl"), tableRows);
            Path out = dir.resolve("out-" + run);
            String model = run.replace("-without-t5", "");
            String[] flags =
                    run.endsWith("-without-t5")
                            ? GoldenCases.generateFlags(golden, model, "--without-t5")
                            : GoldenCases.generateFlags(golden, model);
            List<Row> rows = generate(input, out, flags);
            outputs.put(run, out);
            assertEquals(tableRows.size(), rows.size(), run);
            for (Row r : rows) {
                assertEquals("ok", r.getAs("status"), String.valueOf((Object) r.getAs("error")));
            }
            metadata.put(run, rows);
        }
    }

    /** Image {@code i} of case {@code c} as a table row. */
    private static JsonObject row(JsonObject c, int i) {
        JsonObject row = GoldenCases.row(c, i);
        for (String key : List.of("prompt_2", "prompt_3")) {
            if (c.has(key)) {
                row.addProperty(key, c.getAsJsonArray(key).get(i).getAsString());
            }
        }
        row.addProperty("guidance_scale", c.get("guidance_scale").getAsDouble());
        JsonObject overrides = c.getAsJsonObject("scheduler_config");
        if (overrides.size() > 0) {
            row.addProperty("scheduler_config", overrides.toString());
        }
        if (c.has("clip_skip")) {
            row.addProperty("clip_skip", c.get("clip_skip").getAsInt());
        }
        row.addProperty("max_sequence_length", c.get("max_sequence_length").getAsInt());
        row.addProperty("width", c.get("width").getAsInt());
        row.addProperty("height", c.get("height").getAsInt());
        return row;
    }

    @TestFactory
    Stream<DynamicTest> everyCaseMatchesDiffusers() {
        return DynamicTest.stream(
                cases.stream(), c -> "sd3 golden " + c.get("name").getAsString(), this::checkCase);
    }

    private void checkCase(JsonObject c) throws Exception {
        String name = c.get("name").getAsString();
        String run = runOf(c);
        List<Row> rows = GoldenCases.rowsOf(metadata.get(run), c);
        int images = c.getAsJsonArray("prompt").size();
        assertEquals(images, rows.size(), name + ": metadata rows");
        try (SafetensorsFile ref = SafetensorsFile.open(golden.resolve("sd3.safetensors"))) {
            long[] refImage = ref.readLongs(name + "/image");
            int perImage = refImage.length / images;
            GoldenPixels.CaseCheck pixels = new GoldenPixels.CaseCheck(c);
            for (Row r : rows) {
                int i = (int) (long) r.<Long>getAs("image_index");
                byte[] png =
                        Files.readAllBytes(outputs.get(run).resolve(r.<String>getAs("image_path")));
                pixels.add(png, refImage, i * perImage);
            }
            pixels.assertWithin("sd3 golden via sdbatch generate");
        }
    }
}
