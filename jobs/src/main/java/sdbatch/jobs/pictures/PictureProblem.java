package sdbatch.jobs.pictures;

/**
 * Why an input picture cannot be used: its message names the file and the reason (missing,
 * unreadable, truncated, not a PNG or JPEG, over the pixel limit, changed since the job planned
 * it). It makes its row {@code invalid} when found while planning and {@code failed} when found
 * while generating; it never stops the job.
 */
public final class PictureProblem extends Exception {
    private static final long serialVersionUID = 1L;

    /** A problem whose message is {@code message}. */
    public PictureProblem(String message) {
        super(message);
    }

    /** A problem whose message is {@code message}, caused by {@code cause}. */
    public PictureProblem(String message, Throwable cause) {
        super(message, cause);
    }
}
