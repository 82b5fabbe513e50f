package sdbatch.jobs.generate;

/**
 * What a {@link Generator} made for one request: its PNG (encoded already, or encoded when it is
 * stored) and this image's share of the batch's stage times, or the reason it could not.
 *
 * <p>A deferred PNG is encoded by {@link PartitionRunner} where it stores the image, on its writer
 * thread while the next batch is generated: PNG encoding (deflate over every pixel, tens of
 * milliseconds for a 512×512 image) then overlaps denoising instead of adding to each image's time.
 *
 * @param encoder makes the PNG bytes, null when failed
 * @param error why no image was made, null when ok
 * @param encodeMs prompt encoding, this image's share of its batch (batch time / batch size)
 * @param denoiseMs denoising loop, this image's share
 * @param decodeMs VAE decode, this image's share (PNG encoding counts as writing)
 * @param warning what the generator noticed about the request but generated anyway (a prompt the
 *     tokenizer cut), for the metadata's {@code warning} column; null when nothing
 */
public record GeneratedPng(
        PngEncoder encoder,
        String error,
        long encodeMs,
        long denoiseMs,
        long decodeMs,
        String warning) {

    /** Makes an image's PNG bytes; may be called on another thread than the generator's. */
    @FunctionalInterface
    public interface PngEncoder {
        byte[] encode() throws Exception;
    }

    /** Checks that exactly one of {@code encoder} and {@code error} is set. */
    public GeneratedPng {
        if ((encoder == null) == (error == null)) {
            throw new IllegalArgumentException("exactly one of encoder and error must be set");
        }
    }

    /** An image or failure without a warning. */
    public GeneratedPng(
            PngEncoder encoder, String error, long encodeMs, long denoiseMs, long decodeMs) {
        this(encoder, error, encodeMs, denoiseMs, decodeMs, null);
    }

    /** This result with {@code w} as its warning (null = none). */
    public GeneratedPng withWarning(String w) {
        return new GeneratedPng(encoder, error, encodeMs, denoiseMs, decodeMs, w);
    }

    /** An encoded image without stage times. */
    public static GeneratedPng ok(byte[] png) {
        return deferred(() -> png, 0, 0, 0);
    }

    /** An image encoded when it is stored, with this image's share of the batch's stage times. */
    public static GeneratedPng deferred(
            PngEncoder encoder, long encodeMs, long denoiseMs, long decodeMs) {
        return new GeneratedPng(encoder, null, encodeMs, denoiseMs, decodeMs);
    }

    /** A request the generator could not serve. */
    public static GeneratedPng failed(String error) {
        return new GeneratedPng(null, error, 0, 0, 0);
    }

    /** Whether an image was made. */
    public boolean isOk() {
        return encoder != null;
    }

    /** The PNG bytes, encoding them now if that was deferred. */
    public byte[] png() throws Exception {
        return encoder.encode();
    }
}
