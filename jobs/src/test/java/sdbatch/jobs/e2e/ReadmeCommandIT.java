package sdbatch.jobs.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.testing.Launcher;

/**
 * README's first command through {@code bin/sdbatch}, as a new user runs it: what it prints must be
 * sdbatch's own lines, not Spark's INFO log (about 350 lines before) or libtorch's per-image NNPACK
 * warning; {@code --verbose} brings Spark's INFO log back.
 */
class ReadmeCommandIT {
    @TempDir Path tmp;

    /** Generous: the README job makes six 64×64 images at 50 steps on a shared 2-core machine. */
    static final long TIMEOUT_SECONDS = 600;

    @Test
    void firstRunPrintsOnlyWhatMatters() throws Exception {
        Path out = tmp.resolve("out");
        Launcher.Result run =
                Launcher.run(
                        List.of(
                                "generate",
                                "--input",
                                "examples/prompts.csv",
                                "--output",
                                out.toString()),
                        Map.of(),
                        TIMEOUT_SECONDS);

        assertEquals(ExitCode.OK.code(), run.exitCode(), run.toString());
        assertTrue(run.lines().size() < 30, run.lines().size() + " lines:\n" + run);
        assertTrue(
                run.lines().stream().noneMatch(l -> l.contains(" INFO ")),
                "INFO lines by default:\n" + run);
        assertFalse(run.output().contains("NNPACK"), "libtorch's NNPACK warning:\n" + run);
        assertTrue(
                run.output().contains("sdbatch: done in ")
                        && run.output().contains("6 ok (6 generated, 0 resumed)"),
                run.toString());
        assertTrue(Files.isRegularFile(out.resolve("run.json")), run.toString());
    }

    @Test
    void verboseBringsSparksInfoLogBack() throws Exception {
        Launcher.Result run =
                Launcher.run(
                        List.of("validate", "--input", "examples/prompts.csv", "--verbose"),
                        Map.of(),
                        TIMEOUT_SECONDS);

        assertEquals(ExitCode.OK.code(), run.exitCode(), run.toString());
        assertTrue(
                run.lines().stream()
                        .anyMatch(l -> l.contains(" INFO SparkContext: Running Spark version")),
                "no INFO lines with --verbose:\n" + run);
    }

    /** README's troubleshooting command, as written: every check passes on a working machine. */
    @Test
    void doctorPassesEveryCheckThroughTheLauncher() throws Exception {
        Launcher.Result run =
                Launcher.run(
                        List.of("doctor", "--model-cache", tmp.resolve("cache").toString()),
                        Map.of(),
                        TIMEOUT_SECONDS);

        assertEquals(ExitCode.OK.code(), run.exitCode(), run.toString());
        for (String check :
                List.of(
                        "ok   java",
                        "info cpu",
                        "info libtorch",
                        "ok   s3a",
                        "ok   model cache",
                        "ok   float32 kernels",
                        "ok   bf16 kernels",
                        "ok   images")) {
            assertTrue(run.output().contains(check), check + " missing:\n" + run);
        }
        assertTrue(run.output().contains("all checks passed"), run.toString());
    }
}
