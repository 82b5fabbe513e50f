package sdbatch.pipeline.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.function.ThrowingConsumer;

/**
 * The cases of a golden JSON file ({@code manifest.json}, {@code sd3.json}, ...) and one dynamic
 * test per case, so each golden test says only what it checks of a case.
 */
public final class GoldenCases {
    private GoldenCases() {}

    /** The case objects of the list {@code key} of the JSON file {@code file}. */
    public static List<JsonObject> read(Path file, String key) throws IOException {
        JsonObject doc = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        List<JsonObject> out = new ArrayList<>();
        for (JsonElement e : doc.getAsJsonArray(key)) {
            out.add(e.getAsJsonObject());
        }
        return out;
    }

    /** The folder {@code golden/name}, or the {@code kind} cases that need it are skipped. */
    public static Path folder(Path golden, String name, String kind) {
        Path folder = golden.resolve(name);
        assumeTrue(Files.isDirectory(folder), folder + " absent; " + kind + " cases skipped");
        return folder;
    }

    /**
     * One test per case, named {@code label} and the case's {@code name}, running {@code check}.
     */
    public static Stream<DynamicTest> each(
            String label, List<JsonObject> cases, ThrowingConsumer<JsonObject> check) {
        return cases.stream()
                .map(
                        c ->
                                DynamicTest.dynamicTest(
                                        label + " " + c.get("name").getAsString(),
                                        () -> check.accept(c)));
    }

    /** A check of one case that also needs the golden folder its references lie in. */
    @FunctionalInterface
    public interface GoldenCheck {
        void accept(Path golden, JsonObject c) throws Throwable;
    }

    /**
     * One test per case of the list {@code key} of {@code golden/file}, named {@code label} and the
     * case's {@code name}, running {@code check}; skipped without the shared golden folder.
     */
    public static Stream<DynamicTest> each(String label, String file, String key, GoldenCheck check)
            throws IOException {
        Path golden = SharedData.golden();
        return each(label, read(golden.resolve(file), key), c -> check.accept(golden, c));
    }
}
