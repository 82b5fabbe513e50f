package sdbatch.jobs.generate;

/**
 * What a {@link Generator} made for one request: the PNG bytes and this image's share of the
 * batch's stage times, or the reason it could not.
 *
 * @param png the encoded image, null when failed
 * @param error why no image was made, null when ok
 * @param encodeMs prompt encoding, this image's share of its batch (batch time / batch size)
 * @param denoiseMs denoising loop, this image's share
 * @param decodeMs VAE decode and PNG encoding, this image's share
 */
public record GeneratedPng(byte[] png, String error, long encodeMs, long denoiseMs, long decodeMs) {
    /** Checks that exactly one of {@code png} and {@code error} is set. */
    public GeneratedPng {
        if ((png == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of png and error must be set");
        }
    }

    /** A generated image without stage times. */
    public static GeneratedPng ok(byte[] png) {
        return new GeneratedPng(png, null, 0, 0, 0);
    }

    /** A generated image with this image's share of the batch's stage times. */
    public static GeneratedPng ok(byte[] png, long encodeMs, long denoiseMs, long decodeMs) {
        return new GeneratedPng(png, null, encodeMs, denoiseMs, decodeMs);
    }

    /** A request the generator could not serve. */
    public static GeneratedPng failed(String error) {
        return new GeneratedPng(null, error, 0, 0, 0);
    }

    /** Whether an image was made. */
    public boolean isOk() {
        return png != null;
    }
}
