package sdbatch.pipeline.image;

/**
 * diffusers' {@code VaeImageProcessor.preprocess} for an RGB picture, as Stable Diffusion's img2img
 * pipeline configures it (resample {@code lanczos}, {@code do_normalize}): the picture resized to
 * the target size with PIL's Lanczos filter, then {@code levels / 255} scaled to [-1, 1], channels
 * first; and as the ControlNet pipeline configures it for control pictures ({@code
 * do_normalize=False}): the same, left in [0, 1].
 *
 * <p>The resize is PIL's {@code Image.resize(size, Image.LANCZOS)} to the level, not an
 * approximation: img2img encodes the resized pixels, so a different resampler changes every latent.
 * PIL resamples in two separable 8-bit passes (horizontal, then vertical, each rounded and clipped
 * to 0..255) with fixed-point coefficients; this class does the same.
 */
public final class VaeImageProcessor {
    /** PIL's {@code PRECISION_BITS}: 32 - 8 - 2 (8-bit result, two bits for overshoot). */
    private static final int PRECISION_BITS = 32 - 8 - 2;

    /** PIL's {@code LANCZOS.support}: the filter is sinc(x)·sinc(x/3) on [-3, 3). */
    private static final double LANCZOS_SUPPORT = 3.0;

    private VaeImageProcessor() {}

    /**
     * The picture as the VAE encoder's input: resized to {@code width}×{@code height} and written
     * at {@code offset} of {@code out} as {@code [3, height, width]} floats in [-1, 1].
     */
    public static void preprocess(RgbImage image, int width, int height, float[] out, int offset) {
        preprocess(image, width, height, out, offset, true);
    }

    /**
     * As {@link #preprocess(RgbImage, int, int, float[], int)}, with diffusers' {@code
     * do_normalize} chosen: false leaves the levels in [0, 1], as the ControlNet pipelines' {@code
     * control_image_processor} ({@code VaeImageProcessor(do_convert_rgb=True, do_normalize=False)})
     * hands control pictures to the ControlNet.
     */
    // Port of diffusers image_processor.VaeImageProcessor.preprocess (PIL input: resize,
    // pil_to_numpy, numpy_to_pt, normalize)
    public static void preprocess(
            RgbImage image, int width, int height, float[] out, int offset, boolean doNormalize) {
        RgbImage resized = resize(image, width, height);
        int plane = width * height;
        if (out.length - offset < 3 * plane) {
            throw new IllegalArgumentException(
                    "out has room for "
                            + (out.length - offset)
                            + " floats after offset "
                            + offset
                            + ", the picture needs "
                            + 3 * plane);
        }
        byte[] rgb = resized.rgb();
        for (int p = 0; p < plane; p++) {
            for (int c = 0; c < 3; c++) {
                // pil_to_numpy: astype(float32) / 255.0; normalize: 2.0 * image - 1.0 (float32)
                float v = (rgb[p * 3 + c] & 0xFF) / 255.0f;
                out[offset + c * plane + p] = doNormalize ? 2.0f * v - 1.0f : v;
            }
        }
    }

    /**
     * PIL's {@code image.resize((width, height), Image.LANCZOS)}: the picture itself when the size
     * is already right (PIL returns a copy), else PIL's two-pass 8-bit resample.
     */
    // Port of Pillow Image.resize and libImaging/Resample.c ImagingResampleInner (8 bits per
    // channel, box = the whole picture)
    public static RgbImage resize(RgbImage image, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException(
                    "resize target " + width + "x" + height + " is not positive");
        }
        if (image.width() == width && image.height() == height) {
            return image;
        }
        boolean needHorizontal = width != image.width();
        boolean needVertical = height != image.height();
        Coefficients vertical = Coefficients.of(image.height(), height);
        // First and last source rows the vertical pass reads: the horizontal pass does only those.
        int yFirst = vertical.bounds[0];
        int yLast = vertical.bounds[(height - 1) * 2] + vertical.bounds[(height - 1) * 2 + 1];
        byte[] src = image.rgb();
        int srcWidth = image.width();
        int rowOffset = 0;
        if (needHorizontal) {
            Coefficients horizontal = Coefficients.of(image.width(), width);
            int rows = yLast - yFirst;
            byte[] tmp = new byte[rows * width * 3];
            for (int y = 0; y < rows; y++) {
                int inRow = (y + yFirst) * srcWidth * 3;
                for (int x = 0; x < width; x++) {
                    int xmin = horizontal.bounds[x * 2];
                    int n = horizontal.bounds[x * 2 + 1];
                    int k = x * horizontal.ksize;
                    for (int c = 0; c < 3; c++) {
                        int ss = 1 << (PRECISION_BITS - 1);
                        for (int i = 0; i < n; i++) {
                            ss += (src[inRow + (xmin + i) * 3 + c] & 0xFF) * horizontal.k[k + i];
                        }
                        tmp[(y * width + x) * 3 + c] = clip8(ss);
                    }
                }
            }
            src = tmp;
            srcWidth = width;
            // the vertical pass reads the rows the horizontal one made, from row 0
            rowOffset = yFirst;
        }
        if (!needVertical) {
            return new RgbImage(width, height, src);
        }
        byte[] out = new byte[height * width * 3];
        for (int y = 0; y < height; y++) {
            int ymin = vertical.bounds[y * 2] - rowOffset;
            int n = vertical.bounds[y * 2 + 1];
            int k = y * vertical.ksize;
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < 3; c++) {
                    int ss = 1 << (PRECISION_BITS - 1);
                    for (int i = 0; i < n; i++) {
                        ss += (src[((ymin + i) * srcWidth + x) * 3 + c] & 0xFF) * vertical.k[k + i];
                    }
                    out[(y * width + x) * 3 + c] = clip8(ss);
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    /** PIL's {@code clip8}: the fixed-point sum back to a level, clamped to 0..255. */
    private static byte clip8(int ss) {
        int v = ss >> PRECISION_BITS;
        return (byte) (v < 0 ? 0 : Math.min(v, 255));
    }

    /** PIL's {@code lanczos_filter}: a truncated sinc windowed by a 3× wider sinc. */
    private static double lanczos(double x) {
        if (-3.0 <= x && x < 3.0) {
            return sinc(x) * sinc(x / 3);
        }
        return 0.0;
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x = x * Math.PI;
        return Math.sin(x) / x;
    }

    /**
     * One pass's filter taps: for output pixel {@code i}, {@code bounds[2i]} is the first source
     * pixel, {@code bounds[2i+1]} how many are read, and {@code k[i·ksize …]} their fixed-point
     * weights.
     */
    private record Coefficients(int ksize, int[] bounds, int[] k) {
        // Port of Pillow libImaging/Resample.c precompute_coeffs and normalize_coeffs_8bpc
        static Coefficients of(int inSize, int outSize) {
            double scale = (double) inSize / outSize;
            double filterScale = Math.max(scale, 1.0);
            double support = LANCZOS_SUPPORT * filterScale;
            int ksize = (int) Math.ceil(support) * 2 + 1;
            int[] bounds = new int[outSize * 2];
            int[] k = new int[outSize * ksize];
            double[] w = new double[ksize];
            for (int xx = 0; xx < outSize; xx++) {
                double center = (xx + 0.5) * scale;
                double ww = 0.0;
                double ss = 1.0 / filterScale;
                int xmin = Math.max((int) (center - support + 0.5), 0);
                int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
                for (int x = 0; x < xmax; x++) {
                    w[x] = lanczos((x + xmin - center + 0.5) * ss);
                    ww += w[x];
                }
                for (int x = 0; x < xmax; x++) {
                    double v = ww != 0.0 ? w[x] / ww : w[x];
                    // normalize_coeffs_8bpc: round half away from zero to 22 fractional bits
                    k[xx * ksize + x] =
                            v < 0
                                    ? (int) (-0.5 + v * (1 << PRECISION_BITS))
                                    : (int) (0.5 + v * (1 << PRECISION_BITS));
                }
                bounds[xx * 2] = xmin;
                bounds[xx * 2 + 1] = xmax;
            }
            return new Coefficients(ksize, bounds, k);
        }
    }
}
