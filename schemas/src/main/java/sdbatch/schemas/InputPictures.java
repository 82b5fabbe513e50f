package sdbatch.schemas;

import java.io.Serializable;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The input pictures of one img2img or inpainting request, as the job found them: where each
 * picture is, the SHA-256 of its file bytes, and the strength and paste-back the request uses. A
 * text-to-image request has none ({@link GenerationRequest#pictures()} is null).
 *
 * <p>The image id hashes the pictures' content ({@link #initImageSha256}, {@link
 * #maskImageSha256}), never their locations: the same picture under two names is one image, a file
 * changed at the same path is a new one. The locations are recorded in the metadata and the PNG.
 *
 * @param initImage the init picture's absolute URI
 * @param initImageSha256 SHA-256 hex of the init picture's file bytes
 * @param maskImage the mask's absolute URI, null unless inpainting
 * @param maskImageSha256 SHA-256 hex of the mask's file bytes, null unless inpainting
 * @param strength how far into the schedule the picture is noised, in (0, 1]
 * @param pasteBack inpainting only: whether the result is pasted back over the original outside the
 *     mask
 * @param warning what looks wrong with the pictures but does not stop the request (an all-black
 *     mask), or null; not part of the image id (it follows from the content)
 */
public record InputPictures(
        String initImage,
        String initImageSha256,
        String maskImage,
        String maskImageSha256,
        double strength,
        boolean pasteBack,
        String warning)
        implements Serializable {

    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    /** The mode name of img2img requests (metadata, batch keys). */
    public static final String IMG2IMG = "img2img";

    /** The mode name of inpainting requests. */
    public static final String INPAINT = "inpaint";

    /** Checks shape: locations and hashes present in pairs, strength in (0, 1]. */
    public InputPictures {
        Objects.requireNonNull(initImage, "initImage");
        sha256(initImageSha256, "initImageSha256");
        if ((maskImage == null) != (maskImageSha256 == null)) {
            throw new IllegalArgumentException(
                    "a mask needs both its location and its sha256, got "
                            + maskImage
                            + " and "
                            + maskImageSha256);
        }
        if (maskImageSha256 != null) {
            sha256(maskImageSha256, "maskImageSha256");
        }
        if (!(strength > 0 && strength <= 1)) {
            throw new IllegalArgumentException("strength " + strength + " is not in (0, 1]");
        }
        if (pasteBack && maskImage == null) {
            throw new IllegalArgumentException("paste back needs a mask (inpainting)");
        }
        strength += 0.0;
    }

    /** Whether this is an inpainting request (it has a mask). */
    public boolean isInpainting() {
        return maskImage != null;
    }

    /** {@value #INPAINT} or {@value #IMG2IMG}. */
    public String mode() {
        return isInpainting() ? INPAINT : IMG2IMG;
    }

    private static void sha256(String hex, String name) {
        if (hex == null || !SHA256_HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException(
                    name + " " + hex + " is not 64 lower-case hex digits");
        }
    }

    /**
     * What reading one row's pictures found, before the sweep gives each request its strength: the
     * pictures' locations and hashes, the init picture's size, and the warning.
     *
     * @param initImage the init picture's absolute URI
     * @param initImageSha256 SHA-256 hex of its bytes
     * @param initWidth its width in pixels
     * @param initHeight its height in pixels
     * @param maskImage the mask's absolute URI, or null
     * @param maskImageSha256 SHA-256 hex of the mask's bytes, or null
     * @param warning what looks wrong but does not stop the row, or null
     */
    public record Read(
            String initImage,
            String initImageSha256,
            int initWidth,
            int initHeight,
            String maskImage,
            String maskImageSha256,
            String warning)
            implements Serializable {

        /** The pictures of one request with this strength and paste-back. */
        public InputPictures request(double strength, boolean pasteBack) {
            return new InputPictures(
                    initImage,
                    initImageSha256,
                    maskImage,
                    maskImageSha256,
                    strength,
                    pasteBack,
                    warning);
        }
    }
}
