package sdbatch.pipeline.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import org.junit.jupiter.api.function.Executable;
import sdbatch.pipeline.weights.ModelLoadException;

/** Loads that must be refused before any tensor of the asked-for (huge) shapes is made. */
public final class LoadRefusals {
    private LoadRefusals() {}

    /**
     * The {@link ModelLoadException} {@code load} throws, within 60 seconds: reading or allocating
     * the tensors a wrong config asks for would take far longer (or run out of memory).
     */
    public static ModelLoadException refusedWithinAMinute(Executable load) {
        return assertTimeoutPreemptively(
                Duration.ofSeconds(60), () -> assertThrows(ModelLoadException.class, load));
    }
}
