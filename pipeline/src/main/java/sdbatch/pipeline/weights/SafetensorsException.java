package sdbatch.pipeline.weights;

import java.nio.file.Path;

/** A safetensors file that cannot be trusted: truncated, malformed, or with a lying header. */
public final class SafetensorsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;

    public SafetensorsException(Path path, String reason) {
        super(path + ": " + reason);
        this.path = path;
    }

    public SafetensorsException(Path path, String reason, Throwable cause) {
        super(path + ": " + reason, cause);
        this.path = path;
    }

    /** The offending file. */
    public Path path() {
        return path;
    }
}
