package sdbatch.pipeline.image;

/**
 * An inpainting mask as diffusers' inpainting pipelines make it: {@code
 * VaeImageProcessor(do_normalize=False, do_binarize=True, do_convert_grayscale=True).preprocess} —
 * the picture resized to the image size with PIL's Lanczos (the processor's default {@code
 * resample}), then converted to grayscale (PIL's {@code convert("L")}), {@code levels / 255} in
 * float32, binarized: below 0.5 is 0 (keep), the rest 1 (repaint).
 *
 * <p>The mask picture arrives as RGB (what the job reads, as diffusers' {@code load_image} converts
 * to RGB). PIL resizes each channel alone, so resizing the RGB picture then taking its luma is what
 * diffusers does with an RGB mask, and for a gray mask (R = G = B) it equals resizing the
 * one-channel picture: PIL's luma of a gray pixel is that gray level exactly.
 *
 * @param width the image width the mask was made for
 * @param height the image height
 * @param repaint {@code height × width} values, 1 where the pixel is repainted, 0 where it is kept
 */
public record InpaintMask(int width, int height, float[] repaint) {
    /** Checks the size. */
    public InpaintMask {
        if (repaint.length != (long) width * height) {
            throw new IllegalArgumentException(
                    "mask has " + repaint.length + " values for " + width + "x" + height);
        }
    }

    /** diffusers' mask processor on {@code mask} for an image of {@code width}×{@code height}. */
    // Port of diffusers image_processor.VaeImageProcessor.preprocess (PIL input: resize,
    // convert_to_grayscale, pil_to_numpy, binarize)
    public static InpaintMask of(RgbImage mask, int width, int height) {
        RgbImage resized = VaeImageProcessor.resize(mask, width, height);
        byte[] rgb = resized.rgb();
        float[] values = new float[width * height];
        for (int p = 0; p < values.length; p++) {
            // pil_to_numpy: astype(float32) / 255.0; binarize: < 0.5 -> 0, >= 0.5 -> 1
            float v = luma(rgb[p * 3] & 0xFF, rgb[p * 3 + 1] & 0xFF, rgb[p * 3 + 2] & 0xFF) / 255f;
            values[p] = v < 0.5f ? 0f : 1f;
        }
        return new InpaintMask(width, height, values);
    }

    /**
     * PIL's {@code convert("L")} of one RGB pixel (ITU-R 601-2 luma in 16-bit fixed point,
     * rounded).
     */
    // Port of Pillow libImaging/Convert.c rgb2l (L24)
    public static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    /**
     * Whether no pixel is repainted (an all-black mask, or white too thin to survive the resize and
     * the 0.5 threshold): the pipeline still generates — a 4-channel UNet then returns the init
     * picture's latents, a 9-channel one sees an empty mask — and the job says so in a warning.
     */
    public boolean repaintsNothing() {
        for (float v : repaint) {
            if (v != 0f) {
                return false;
            }
        }
        return true;
    }

    /**
     * The mask at latent size, as {@code torch.nn.functional.interpolate(mask, size=(h, w))} makes
     * it (mode {@code nearest}): latent pixel (x, y) is the mask at ({@code floor(x · W/w)}, {@code
     * floor(y · H/h)}), the scale a float32 as torch computes it.
     */
    // Port of diffusers StableDiffusionInpaintPipeline.prepare_mask_latents (the interpolate) and
    // ATen UpSample.h nearest_idx
    public float[] toLatentSize(int latentWidth, int latentHeight) {
        float[] out = new float[latentWidth * latentHeight];
        for (int y = 0; y < latentHeight; y++) {
            int sy = nearestIndex(y, height, latentHeight);
            for (int x = 0; x < latentWidth; x++) {
                out[y * latentWidth + x] =
                        repaint[sy * width + nearestIndex(x, width, latentWidth)];
            }
        }
        return out;
    }

    private static int nearestIndex(int out, int inSize, int outSize) {
        if (outSize == inSize) {
            return out;
        }
        if (outSize == 2 * inSize) {
            return out >> 1;
        }
        float scale = (float) inSize / outSize;
        return Math.min((int) (float) Math.floor(out * scale), inSize - 1);
    }
}
