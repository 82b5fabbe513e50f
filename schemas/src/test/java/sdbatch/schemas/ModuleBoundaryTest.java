package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The schemas module knows neither Spark nor DJL, in its sources as in its dependencies. */
class ModuleBoundaryTest {
    @Test
    void noSparkOrDjlImports() throws IOException {
        Path src = Path.of("src");
        assertTrue(Files.isDirectory(src.resolve("main/java")), "run from the module folder");
        List<String> offenders;
        try (Stream<Path> files = Files.walk(src)) {
            offenders =
                    files.filter(p -> p.toString().endsWith(".java"))
                            .filter(
                                    p -> {
                                        try {
                                            String s = Files.readString(p);
                                            return s.contains("import " + "org.apache.spark")
                                                    || s.contains("import " + "ai.djl");
                                        } catch (IOException e) {
                                            throw new IllegalStateException(e);
                                        }
                                    })
                            .map(Path::toString)
                            .toList();
        }
        assertEquals(List.of(), offenders);
    }
}
