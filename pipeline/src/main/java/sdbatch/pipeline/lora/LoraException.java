package sdbatch.pipeline.lora;

/**
 * A LoRA file that cannot be applied to this model: missing, pickle, LyCORIS, a key that names no
 * layer, a LoRA for another model family, a shape that does not fit, a hash that does not match.
 * The message names the file and, where one is at fault, the key. An {@link
 * IllegalArgumentException}: the request that asked for the LoRA is what is wrong.
 */
public final class LoraException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public LoraException(String message) {
        super(message);
    }

    public LoraException(String message, Throwable cause) {
        super(message, cause);
    }
}
