package sdbatch.pipeline.image;

/**
 * diffusers' {@code VaeImageProcessor.apply_overlay(mask, init_image, image)} without crop
 * coordinates: the generated image with the init picture composited over it where the mask is not
 * white, so the kept region is the init picture's own pixels instead of their trip through the VAE.
 * The mask is used as it is, not binarized: its soft edges blend.
 *
 * <p>PIL's steps, each in its 8-bit integer arithmetic: the init picture as premultiplied {@code
 * RGBa} pasted onto a transparent image through {@code invert(mask.convert("L"))}, converted back
 * to {@code RGBA} (un-premultiplied), then {@code alpha_composite}d over the opaque generated
 * image, then converted to RGB.
 */
public final class ImageOverlay {
    /** Pillow AlphaComposite.c's {@code PRECISION_BITS}. */
    private static final int PRECISION_BITS = 7;

    private ImageOverlay() {}

    /**
     * The overlay of {@code init} on {@code image} through {@code mask}; all three the same size
     * (diffusers' {@code alpha_composite} refuses others).
     */
    // Port of diffusers image_processor.VaeImageProcessor.apply_overlay (crop_coords None) and
    // Pillow libImaging Paste.c paste_mask_L, Convert.c rgba2rgbA, AlphaComposite.c
    public static RgbImage apply(RgbImage mask, RgbImage init, RgbImage image) {
        if (mask.width() != image.width()
                || mask.height() != image.height()
                || init.width() != image.width()
                || init.height() != image.height()) {
            throw new IllegalArgumentException(
                    "overlay needs one size, got mask "
                            + mask
                            + ", init "
                            + init
                            + ", image "
                            + image);
        }
        byte[] m = mask.rgb();
        byte[] src = init.rgb();
        byte[] dst = image.rgb();
        byte[] out = new byte[dst.length];
        for (int p = 0; p < dst.length / 3; p++) {
            int o = p * 3;
            // ImageOps.invert(mask.convert("L")): the paste's matte, 255 where the mask is black
            int a = 255 - InpaintMask.luma(m[o] & 0xFF, m[o + 1] & 0xFF, m[o + 2] & 0xFF);
            for (int c = 0; c < 3; c++) {
                out[o + c] = (byte) composite(a, src[o + c] & 0xFF, dst[o + c] & 0xFF);
            }
        }
        return new RgbImage(image.width(), image.height(), out);
    }

    /**
     * One channel: {@code init} (opaque, so its RGBa equals its RGB) pasted through matte {@code a}
     * onto transparent black, un-premultiplied, then composited over the opaque {@code generated}.
     */
    private static int composite(int a, int init, int generated) {
        // paste_mask_L: BLEND(a, 0, in, tmp) = DIV255(in * a); the alpha, DIV255(255 * a), is a
        int premultiplied = div255(init * a);
        if (a == 0) {
            // AlphaComposite: a transparent source leaves the destination as it is
            return generated;
        }
        // rgba2rgbA: un-premultiply, except at alpha 255 (and 0, handled above)
        int srcValue = a == 255 ? premultiplied : clip8((255 * premultiplied) / a);
        // AlphaComposite over an opaque destination (dst.a = 255)
        long blend = 255L * (255 - a);
        long outa255 = a * 255L + blend;
        long coef1 = a * 255L * 255L * (1 << PRECISION_BITS) / outa255;
        long coef2 = 255L * (1 << PRECISION_BITS) - coef1;
        long tmp = srcValue * coef1 + generated * coef2;
        return (int) (shiftForDiv255(tmp + (0x80L << PRECISION_BITS)) >> PRECISION_BITS);
    }

    /** Pillow's {@code DIV255}: {@code x / 255} rounded, for {@code x <= 255 · 255}. */
    private static int div255(int x) {
        int t = x + 128;
        return ((t >> 8) + t) >> 8;
    }

    private static long shiftForDiv255(long a) {
        return ((a >> 8) + a) >> 8;
    }

    private static int clip8(int v) {
        return v <= 0 ? 0 : Math.min(v, 255);
    }
}
