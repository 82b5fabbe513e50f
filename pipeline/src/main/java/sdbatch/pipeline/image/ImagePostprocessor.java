package sdbatch.pipeline.image;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the VAE's decoded output (float, {@code [-1, 1]}, {@code B×3×H×W} or {@code 3×H×W}) into
 * 8-bit RGB exactly as diffusers does.
 *
 * <p>Port of diffusers {@code image_processor.VaeImageProcessor.postprocess} with {@code
 * output_type="pil"}: {@code denormalize} ({@code (x * 0.5 + 0.5).clamp(0, 1)}, in float32), then
 * {@code numpy_to_pil} ({@code (images * 255).round().astype("uint8")}, float32 times 255 in
 * float32, then numpy's round, which rounds halves to even). The arithmetic here is float32 step by
 * step with {@link Math#rint} (also half-to-even), so every level equals diffusers' — the golden
 * README's {@code round(clamp(x / 2 + 0.5, 0, 1) * 255)} is the same formula ({@code x/2} and
 * {@code x*0.5} are the same float).
 *
 * <p>A NaN or infinite value is an error, never a black or white image: the request fails with the
 * position of the first bad value, while the other images of a batch are unaffected (convert them
 * one at a time with {@link #toRgb8(float[], int, int, int)}).
 */
public final class ImagePostprocessor {
    private ImagePostprocessor() {}

    /**
     * One value in {@code [-1, 1]} to its 8-bit level (diffusers' formula, see the class comment).
     * The value must be finite.
     */
    public static int toLevel(float x) {
        // 1. denormalize: (x * 0.5 + 0.5).clamp(0, 1), float32
        float v = x * 0.5f + 0.5f;
        v = v < 0f ? 0f : (v > 1f ? 1f : v);
        // 2. numpy_to_pil: (v * 255).round() in float32; rint rounds halves to even like numpy
        float scaled = v * 255f;
        return (int) Math.rint(scaled);
    }

    /**
     * Converts image {@code index} of a {@code B×3×H×W} float array (index 0 for {@code 3×H×W}).
     *
     * @throws IllegalStateException naming channel, row and column of the first NaN or infinity
     */
    public static RgbImage toRgb8(float[] chw, int index, int height, int width) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException(
                    "image size " + width + "x" + height + " is not positive");
        }
        int plane = height * width;
        long offset = (long) index * 3 * plane;
        if (index < 0 || offset + 3L * plane > chw.length) {
            throw new IllegalArgumentException(
                    "image "
                            + index
                            + " of 3x"
                            + height
                            + "x"
                            + width
                            + " is outside an array of "
                            + chw.length
                            + " floats");
        }
        int base = (int) offset;
        byte[] rgb = new byte[plane * 3];
        for (int c = 0; c < 3; c++) {
            int src = base + c * plane;
            for (int p = 0; p < plane; p++) {
                float x = chw[src + p];
                if (!Float.isFinite(x)) {
                    throw new IllegalStateException(
                            "decoded image "
                                    + index
                                    + " has the non-finite value "
                                    + x
                                    + " at channel "
                                    + c
                                    + ", y "
                                    + (p / width)
                                    + ", x "
                                    + (p % width)
                                    + " (the latents or the VAE diverged); no image is written");
                }
                rgb[p * 3 + c] = (byte) toLevel(x);
            }
        }
        return new RgbImage(width, height, rgb);
    }

    /**
     * Converts every image of a decoded batch; the first non-finite value fails the whole call (use
     * {@link #toRgb8(float[], int, int, int)} per image to fail only that request).
     *
     * @param images {@code B×3×H×W} or {@code 3×H×W} float array (converted to float32 first)
     */
    public static List<RgbImage> postprocess(NDArray images) {
        Shape s = images.getShape();
        if (s.dimension() == 3) {
            s = new Shape(1, s.get(0), s.get(1), s.get(2));
        }
        if (s.dimension() != 4 || s.get(1) != 3) {
            throw new IllegalArgumentException(
                    "decoded images have shape " + images.getShape() + ", expected (B, 3, H, W)");
        }
        float[] data =
                images.getDataType() == DataType.FLOAT32
                        ? images.toFloatArray()
                        : toFloat32(images);
        int b = (int) s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        List<RgbImage> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            out.add(toRgb8(data, i, h, w));
        }
        return out;
    }

    private static float[] toFloat32(NDArray a) {
        try (NDArray f = a.toType(DataType.FLOAT32, true)) {
            return f.toFloatArray();
        }
    }
}
