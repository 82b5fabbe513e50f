package sdbatch.pipeline.bench;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Locale;

/**
 * Settings of the native runtime that must be made before libtorch is loaded: the intra-op thread
 * count ({@code ai.djl.pytorch.num_threads}, read when DJL's PyTorch engine starts) and OpenMP's
 * wait policy ({@code OMP_WAIT_POLICY}, read by libgomp when it is loaded).
 *
 * <p>Why the wait policy matters: libgomp's default spins waiting for the other threads at every
 * parallel region. When the cores are shared (several executors or other processes on a node), a
 * spinning thread waits for a descheduled one, and every small op can cost milliseconds; {@code
 * PASSIVE} sleeps instead. Measured on the 2-core development machine under load (the bench records
 * the figures): a GroupNorm on 2×32×32×32 took 54 ms per call with the default and 0.27 ms with
 * PASSIVE.
 */
public final class NativeEnvironment {
    private NativeEnvironment() {}

    private interface CLib extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /**
     * Applies the settings; call before the first use of DJL in the process.
     *
     * @param threads intra-op threads, or 0 to leave the engine's default
     * @param ompWait {@code passive}, {@code active}, or null to leave the inherited environment
     */
    public static void configure(int threads, String ompWait) {
        if (threads > 0) {
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        if (ompWait != null) {
            CLib c = Native.load("c", CLib.class);
            int rc = c.setenv("OMP_WAIT_POLICY", ompWait.toUpperCase(Locale.ROOT), 1);
            if (rc != 0) {
                throw new IllegalStateException("setenv(OMP_WAIT_POLICY) failed: " + rc);
            }
        }
    }

    /** The wait policy the native side will see (the process environment after configure). */
    public static String ompWaitPolicy(String configured) {
        if (configured != null) {
            return configured.toUpperCase(Locale.ROOT);
        }
        String env = System.getenv("OMP_WAIT_POLICY");
        return env == null ? "default" : env;
    }
}
