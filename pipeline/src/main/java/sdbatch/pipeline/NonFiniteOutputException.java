package sdbatch.pipeline;

/** A generation whose latents or image came out NaN or infinite: an error, not a black image. */
public final class NonFiniteOutputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NonFiniteOutputException(String message) {
        super(message);
    }
}
