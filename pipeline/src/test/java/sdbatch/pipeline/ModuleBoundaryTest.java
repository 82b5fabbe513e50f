package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.testing.ModuleSources;

/**
 * The pipeline never sees Spark: besides the enforcer's banned dependency, no source file of this
 * module may import it (a transitive Spark class on some classpath must not tempt anyone).
 */
class ModuleBoundaryTest {
    @Test
    void noSparkImportsInPipelineSources() throws IOException {
        assertEquals(List.of(), ModuleSources.filesImporting("org.apache.spark"));
    }
}
