package sdbatch.jobs.spark;

import ai.djl.engine.Engine;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes libtorch honour {@code TORCH_CPP_LOG_LEVEL} ({@code INFO}, {@code WARNING}, {@code ERROR},
 * {@code FATAL} or 0–3), as PyTorch documents it.
 *
 * <p>Why this is needed: libtorch reads that variable only in {@code c10::initLogging()}, which
 * PyTorch's Python module calls at import and nothing calls when libtorch is loaded on its own, as
 * DJL does; so the variable alone changes nothing here (checked: with {@code
 * TORCH_CPP_LOG_LEVEL=ERROR} the CPU libtorch 2.7.1 still printed {@code Could not initialize
 * NNPACK! Reason: Unsupported hardware.} once per image, from every batch-1 VAE convolution that
 * asks whether NNPACK is available). This class calls that same exported function of the loaded
 * {@code libc10.so} once per JVM, through JNA (which DJL already ships), so libtorch parses the
 * variable itself. {@code bin/sdbatch} sets {@code TORCH_CPP_LOG_LEVEL=ERROR} unless the user set
 * it or passed {@code --verbose}; without the variable nothing is called and libtorch keeps its
 * default (WARNING).
 */
final class TorchLogging {
    private static final Logger LOG = LoggerFactory.getLogger(TorchLogging.class);

    /** The variable libtorch's {@code c10::initLogging()} reads. */
    static final String ENV = "TORCH_CPP_LOG_LEVEL";

    /** {@code c10::initLogging()}, mangled as the Itanium C++ ABI (Linux) exports it. */
    static final String INIT_LOGGING = "_ZN3c1011initLoggingEv";

    private static volatile boolean applied;

    private TorchLogging() {}

    /**
     * Once per JVM, when {@value #ENV} is set: loads libtorch (DJL's engine) if not yet loaded and
     * calls its {@code c10::initLogging()}. Best effort: where the library or the symbol cannot be
     * found (another platform, another build) it logs why at debug level and leaves libtorch's
     * default.
     */
    static void applyFromEnvironment() {
        if (applied) {
            return;
        }
        synchronized (TorchLogging.class) {
            if (applied) {
                return;
            }
            applied = true;
            String level = System.getenv(ENV);
            if (level == null || level.isEmpty()) {
                return;
            }
            try {
                Engine.getEngine("PyTorch");
                Optional<Path> c10 = loadedLibrary("libc10.so");
                if (c10.isEmpty()) {
                    LOG.debug("{} not applied: libc10.so is not mapped in this process", ENV);
                    return;
                }
                Function init =
                        NativeLibrary.getInstance(c10.get().toString()).getFunction(INIT_LOGGING);
                init.invokeVoid(new Object[0]);
                LOG.debug("{}={} applied through {}", ENV, level, c10.get());
            } catch (RuntimeException | UnsatisfiedLinkError e) {
                LOG.debug("{} not applied: {}", ENV, e.toString());
            }
        }
    }

    /**
     * The path of the loaded native library whose file name is {@code name}, from {@code
     * /proc/self/maps} (Linux): the very copy DJL loaded (CPU or CUDA build, from its cache or
     * {@code PYTORCH_LIBRARY_PATH}), not another one found on a search path.
     */
    static Optional<Path> loadedLibrary(String name) {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) {
            return Optional.empty();
        }
        try {
            for (String line : Files.readAllLines(maps, StandardCharsets.UTF_8)) {
                int slash = line.indexOf('/');
                if (slash < 0) {
                    continue;
                }
                Path p = Path.of(line.substring(slash).trim());
                if (p.getFileName() != null && p.getFileName().toString().equals(name)) {
                    return Optional.of(p);
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
