package sdbatch.jobs.testing;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * The cases of a JSON file under {@code ../shared/golden} (manifest.json, features.json, sd3.json)
 * as the end-to-end tests turn them into prompt-table rows and find them again in the metadata.
 */
public final class GoldenCases {
    private GoldenCases() {}

    /** The objects of the array {@code key} in {@code golden/file}. */
    public static List<JsonObject> read(Path golden, String file, String key) throws IOException {
        JsonObject root =
                JsonParser.parseString(Files.readString(golden.resolve(file))).getAsJsonObject();
        List<JsonObject> cases = new ArrayList<>();
        for (JsonElement e : root.getAsJsonArray(key)) {
            cases.add(e.getAsJsonObject());
        }
        return cases;
    }

    /**
     * Image {@code i} of case {@code c} as the start of a table row: {@code case}, {@code
     * image_index}, {@code prompt}, {@code negative_prompt} where the case has one, {@code seed}
     * and {@code steps}; each test adds the columns its cases carry.
     */
    public static JsonObject row(JsonObject c, int i) {
        JsonObject row = new JsonObject();
        row.addProperty("case", c.get("name").getAsString());
        row.addProperty("image_index", i);
        row.addProperty("prompt", c.getAsJsonArray("prompt").get(i).getAsString());
        JsonElement negatives = c.get("negative_prompt");
        if (negatives != null && !negatives.isJsonNull()) {
            row.addProperty("negative_prompt", negatives.getAsJsonArray().get(i).getAsString());
        }
        row.addProperty("seed", c.getAsJsonArray("seed").get(i).getAsLong());
        row.addProperty("steps", c.get("steps").getAsInt());
        return row;
    }

    /** How a test writes image {@code i} of case {@code c} as its table row. */
    @FunctionalInterface
    public interface RowOf {
        JsonObject row(JsonObject c, int i) throws IOException;
    }

    /** The table rows of {@code cases}: {@code rowOf} of each image of each case, in order. */
    public static List<JsonObject> tableRows(List<JsonObject> cases, RowOf rowOf)
            throws IOException {
        List<JsonObject> rows = new ArrayList<>();
        for (JsonObject c : cases) {
            for (int i = 0; i < c.getAsJsonArray("prompt").size(); i++) {
                rows.add(rowOf.row(c, i));
            }
        }
        return rows;
    }

    /** Adds the case's {@code scheduler} alias to {@code row}, unless it is "default" (none). */
    public static void addScheduler(JsonObject row, JsonObject c) {
        String scheduler = c.get("scheduler").getAsString();
        if (!scheduler.equals("default")) {
            row.addProperty("scheduler", scheduler);
        }
    }

    /** Writes {@code rows} to {@code table} as JSON lines, one a row; returns {@code table}. */
    public static Path writeTable(Path table, List<JsonObject> rows) throws IOException {
        Gson gson = new Gson();
        List<String> lines = new ArrayList<>();
        for (JsonObject row : rows) {
            lines.add(gson.toJson(row));
        }
        return Files.write(table, lines, StandardCharsets.UTF_8);
    }

    /**
     * The flags of a golden job: {@code --model GOLDEN/MODEL --master local[2] --batch-size 2},
     * then {@code more}.
     */
    public static String[] generateFlags(Path golden, String model, String... more) {
        List<String> flags =
                new ArrayList<>(
                        List.of(
                                "--model",
                                golden.resolve(model).toString(),
                                "--master",
                                "local[2]",
                                "--batch-size",
                                "2"));
        flags.addAll(List.of(more));
        return flags.toArray(String[]::new);
    }

    /** The metadata rows of case {@code c} (its {@code case} column), in table order. */
    public static List<Row> rowsOf(List<Row> metadata, JsonObject c) {
        String name = c.get("name").getAsString();
        return metadata.stream().filter(r -> name.equals(r.getAs("case"))).toList();
    }
}
