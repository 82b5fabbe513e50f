package sdbatch.pipeline.weights;

import java.nio.file.Files;
import java.nio.file.Path;

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

    /**
     * The file {@code fileName} of the folder {@code dir}, which must be a regular file: otherwise
     * a ModelLoadException "{@code <folderWhat> has no <fileName>: <file> is missing
     * (<expected>)}".
     *
     * @param folderWhat what the folder is, as in "VAE folder"
     * @param expected what the folder should be or how it is made, as in "transformers'
     *     save_pretrained writes it"
     */
    public static Path requireFile(Path dir, String fileName, String folderWhat, String expected) {
        Path file = dir.resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(
                    folderWhat
                            + " has no "
                            + fileName
                            + ": "
                            + file
                            + " is missing ("
                            + expected
                            + ")");
        }
        return file;
    }
}
