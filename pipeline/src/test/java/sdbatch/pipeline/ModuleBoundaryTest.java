package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The pipeline never sees Spark: besides the enforcer's banned dependency, no source file of this
 * module may import it (a transitive Spark class on some classpath must not tempt anyone).
 */
class ModuleBoundaryTest {
    @Test
    void noSparkImportsInPipelineSources() throws IOException {
        Path src = Path.of("src");
        assertTrue(Files.isDirectory(src.resolve("main/java")), "run from the module folder");
        List<String> offenders;
        try (Stream<Path> files = Files.walk(src)) {
            offenders =
                    files.filter(p -> p.toString().endsWith(".java"))
                            .filter(
                                    p -> {
                                        try {
                                            return Files.readString(p)
                                                    .contains("import " + "org.apache.spark");
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
