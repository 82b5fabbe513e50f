package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.testing.ModuleSources;

/** The schemas module knows neither Spark nor DJL, in its sources as in its dependencies. */
class ModuleBoundaryTest {
    @Test
    void noSparkOrDjlImports() throws IOException {
        assertEquals(List.of(), ModuleSources.filesImporting("org.apache.spark", "ai.djl"));
    }
}
