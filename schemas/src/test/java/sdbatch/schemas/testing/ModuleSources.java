package sdbatch.schemas.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * A module's own sources, read by its tests: the source half of each module's boundary check (the
 * enforcer's banned dependencies are the other half). Shared through this module's test-jar.
 */
public final class ModuleSources {
    private ModuleSources() {}

    /**
     * The Java files under {@code src} of the module whose tests run (Surefire's working directory
     * is the module folder) that import anything in one of {@code packages}.
     *
     * @param packages package prefixes, e.g. {@code org.apache.spark}
     */
    public static List<String> filesImporting(String... packages) throws IOException {
        Path src = Path.of("src");
        assertTrue(Files.isDirectory(src.resolve("main/java")), "run from the module folder");
        try (Stream<Path> files = Files.walk(src)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> importsAny(p, packages))
                    .map(Path::toString)
                    .toList();
        }
    }

    private static boolean importsAny(Path file, String[] packages) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (String p : packages) {
            if (text.contains("import " + p)) {
                return true;
            }
        }
        return false;
    }
}
