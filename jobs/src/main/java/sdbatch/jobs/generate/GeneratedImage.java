package sdbatch.jobs.generate;

/**
 * What a {@link Generator} made for one request: PNG bytes, or the reason it could not.
 *
 * @param png the encoded image, null when failed
 * @param error why no image was made, null when ok
 */
public record GeneratedImage(byte[] png, String error) {
    public GeneratedImage {
        if ((png == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of png and error must be set");
        }
    }

    /** A generated image. */
    public static GeneratedImage ok(byte[] png) {
        return new GeneratedImage(png, null);
    }

    /** A request the generator could not serve. */
    public static GeneratedImage failed(String error) {
        return new GeneratedImage(null, error);
    }

    /** Whether an image was made. */
    public boolean isOk() {
        return png != null;
    }
}
