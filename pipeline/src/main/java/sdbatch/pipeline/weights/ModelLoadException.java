package sdbatch.pipeline.weights;

/**
 * A model folder or component that cannot be loaded: missing folder or file, pickle-only weights,
 * missing, unexpected or misshapen tensors, or a config that disagrees with its weights. The
 * message names the folder or file and lists every offending tensor.
 */
public final class ModelLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
