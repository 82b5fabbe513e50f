package sdbatch.pipeline.compute;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;

/**
 * glibc's {@code malloc_trim(0)}, reached through JNA (which DJL already brings): hands the freed
 * memory the C heap keeps back to the system, the free top of the heap and the free pages inside it
 * alike.
 *
 * <p>Why: libtorch allocates its arrays with malloc, and the launcher's {@code GLIBC_TUNABLES}
 * (BENCHMARKS.md, "malloc") keep up to a 1 GiB trim threshold plus a 256 MiB top pad of freed heap
 * so that each denoising step reuses the previous step's memory instead of faulting in fresh pages.
 * That is right inside the loop and wrong across phases: the VAE decode's large activations are
 * mapped apart from the heap, so at 1024² the loop's ~1.2 GB of retained heap sat under the
 * decode's peak (SDXL: 1.32× the weights; BENCHMARKS.md round 9). Releasing it between the loop and
 * the decode, and after the decode, costs the next loop's first step its page faults once.
 *
 * <p>Where there is no glibc {@code malloc_trim} (musl, macOS) this does nothing.
 */
public final class NativeHeap {
    private static final Function MALLOC_TRIM = mallocTrim();

    private NativeHeap() {}

    private static Function mallocTrim() {
        try {
            return NativeLibrary.getInstance("c").getFunction("malloc_trim");
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return null;
        }
    }

    /** Whether this C library has {@code malloc_trim}. */
    public static boolean available() {
        return MALLOC_TRIM != null;
    }

    /**
     * Releases the heap's freed memory to the system.
     *
     * @return whether any memory was released (false also where {@link #available()} is false)
     */
    public static boolean releaseFreed() {
        return MALLOC_TRIM != null && MALLOC_TRIM.invokeInt(new Object[] {0L}) == 1;
    }
}
