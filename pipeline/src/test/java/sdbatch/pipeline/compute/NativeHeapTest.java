package sdbatch.pipeline.compute;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * glibc's malloc_trim through JNA: found on a glibc Linux (this project's build and cluster
 * platform), and the options carry whether a pipeline uses it.
 */
class NativeHeapTest {

    @Test
    void mallocTrimIsFoundAndCallableOnGlibcLinux() throws IOException {
        Path maps = Path.of("/proc/self/maps");
        assumeTrue(
                Files.isReadable(maps) && Files.readString(maps).contains("libc.so.6"),
                "malloc_trim is glibc's; this JVM does not run on glibc");
        assertTrue(NativeHeap.available(), "malloc_trim not found in the C library");
        // The result says whether anything was released: either is fine, the call must return.
        NativeHeap.releaseFreed();
    }

    @Test
    void releasingTheHeapIsAnOptionOfThePipeline() {
        ComputeOptions off = ComputeOptions.defaults().withReleaseFreedHeap(false);
        assertFalse(off.releaseFreedHeap());
        assertTrue(off.withReleaseFreedHeap(true).releaseFreedHeap());
    }
}
