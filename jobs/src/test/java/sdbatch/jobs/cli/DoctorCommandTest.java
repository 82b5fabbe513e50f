package sdbatch.jobs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.compute.CpuFeatures;

class DoctorCommandTest {
    @TempDir Path dir;

    private static String run(List<String> args, int[] code) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        code[0] = Cli.standard().run(args, ps, ps);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void reportsEveryCheckAndPassesOnAWorkingMachine() {
        int[] code = new int[1];
        String text = run(List.of("doctor", "--model-cache", dir.toString()), code);
        for (String name :
                List.of(
                        "java",
                        "cpu",
                        "libtorch",
                        "s3a",
                        "model cache",
                        "float32 kernels",
                        "bf16 kernels",
                        "images")) {
            assertTrue(text.contains(" " + name + " "), name + " missing:\n" + text);
        }
        assertTrue(text.contains(CpuFeatures.current().vendor()), text);
        assertEquals(0, code[0], text);
        assertTrue(text.contains("all checks passed"), text);
    }

    @Test
    void anUnwritableModelCacheFailsWithExitTwo() throws Exception {
        Path file = dir.resolve("not-a-folder");
        Files.writeString(file, "x");
        int[] code = new int[1];
        String text = run(List.of("doctor", "--model-cache", file.toString()), code);
        assertEquals(2, code[0], text);
        assertTrue(text.contains("FAIL model cache"), text);
        assertTrue(text.contains("some checks FAILED"), text);
    }
}
