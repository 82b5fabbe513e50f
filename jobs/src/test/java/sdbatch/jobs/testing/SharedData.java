package sdbatch.jobs.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Locates the reference data in {@code ../shared} (read in place, never copied into the project).
 * The jobs module's own copy of the pipeline module's test helper (test classes do not cross
 * modules). Tests that need it call {@link #golden()} or {@link #clipTokenizer()}, which skip the
 * test with a clear message when the folder is absent.
 */
public final class SharedData {
    private SharedData() {}

    /** The shared folder: system property {@code sdbatch.shared.dir}, else {@code ../shared}. */
    public static Path root() {
        String prop = System.getProperty("sdbatch.shared.dir");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        Path cwd = Path.of("").toAbsolutePath();
        // Tests run in the module folder; the project root is its parent.
        for (Path p = cwd; p != null; p = p.getParent()) {
            Path candidate = p.resolveSibling("shared");
            if (Files.isDirectory(candidate.resolve("golden"))) {
                return candidate;
            }
        }
        return cwd.resolveSibling("shared");
    }

    /** {@code ../shared/golden}, or the test is skipped. */
    public static Path golden() {
        Path p = root().resolve("golden");
        assumeTrue(
                Files.isRegularFile(p.resolve("manifest.json")),
                "reference data not found at "
                        + p
                        + " (set -Dsdbatch.shared.dir=...); golden parity test skipped");
        return p;
    }
}
