package sdbatch.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

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
}
