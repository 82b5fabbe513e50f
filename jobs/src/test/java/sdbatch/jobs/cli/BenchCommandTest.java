package sdbatch.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.tiny.TinyModels;

/** The bench command's own flags (the measurements themselves are a command, not a test). */
class BenchCommandTest {
    private static int run(
            List<String> args, ByteArrayOutputStream out, ByteArrayOutputStream err) {
        return Cli.standard()
                .run(
                        args,
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void helpListsBothFlagSets() {
        var out = new ByteArrayOutputStream();
        assertEquals(0, run(List.of("bench", "--help"), out, new ByteArrayOutputStream()));
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("--spark-images"), text);
        assertTrue(text.contains("--models"), text);
    }

    @Test
    void badFlagsCannotStart() {
        var err = new ByteArrayOutputStream();
        assertEquals(
                2, run(List.of("bench", "--spark-images", "0"), new ByteArrayOutputStream(), err));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--spark-images"));
        assertEquals(
                2,
                run(
                        List.of("bench", "--no-spark", "--latents", "7"),
                        new ByteArrayOutputStream(),
                        new ByteArrayOutputStream()));
    }

    @Test
    void memoryMeasuresLoadAndOneImageOfAFolder(@TempDir Path dir) throws Exception {
        Path model = TinyModels.write(dir.resolve("tiny-sd3"), TinyModels.Variant.SD3, 0);
        Path report = dir.resolve("memory.json");
        var out = new ByteArrayOutputStream();
        var err = new ByteArrayOutputStream();
        int code =
                run(
                        List.of(
                                "bench",
                                "--memory",
                                model.toString(),
                                "--without-t5",
                                "--size",
                                "32",
                                "--steps",
                                "1",
                                "--out",
                                report.toString()),
                        out,
                        err);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        JsonObject r = JsonParser.parseString(Files.readString(report)).getAsJsonObject();
        assertTrue(r.get("without_t5").getAsBoolean());
        // The T5 folder is left out of the weights counted.
        long t5 = Files.size(model.resolve("text_encoder_3/model.safetensors"));
        long all;
        try (var files = Files.walk(model)) {
            all =
                    files.filter(p -> p.toString().endsWith(".safetensors"))
                            .mapToLong(p -> p.toFile().length())
                            .sum();
        }
        assertEquals((all - t5) / 1048576.0, r.get("weights_file_mb").getAsDouble(), 0.05);
        assertTrue(
                r.get("load_peak_rss_mb").getAsDouble() >= r.get("baseline_rss_mb").getAsDouble());
        JsonObject g = r.getAsJsonObject("generate");
        assertEquals(32, g.get("width").getAsInt());
        assertTrue(g.get("peak_rss_mb").getAsDouble() > 0);
        assertEquals(
                2,
                run(
                        List.of("bench", "--memory", dir.resolve("nothing").toString()),
                        new ByteArrayOutputStream(),
                        new ByteArrayOutputStream()));
    }
}
