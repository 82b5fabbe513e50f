package sdbatch.pipeline;

/**
 * SDXL's micro-conditioning, diffusers' {@code original_size}, {@code crops_coords_top_left} and
 * {@code target_size}: the six numbers of {@code add_time_ids}, in pixels. A null field takes
 * diffusers' default: the image's size for the two sizes, 0 for the crop.
 */
public record MicroConditioning(
        Integer originalWidth,
        Integer originalHeight,
        Integer cropTop,
        Integer cropLeft,
        Integer targetWidth,
        Integer targetHeight) {

    /** Whether every field is null (all diffusers' defaults). */
    public boolean isDefault() {
        return originalWidth == null
                && originalHeight == null
                && cropTop == null
                && cropLeft == null
                && targetWidth == null
                && targetHeight == null;
    }

    /**
     * diffusers' {@code add_time_ids} for an image of {@code width} × {@code height}: original (h,
     * w), crop (top, left), target (h, w).
     */
    public double[] addTimeIds(int width, int height) {
        return new double[] {
            orDefault(originalHeight, height),
            orDefault(originalWidth, width),
            orDefault(cropTop, 0),
            orDefault(cropLeft, 0),
            orDefault(targetHeight, height),
            orDefault(targetWidth, width)
        };
    }

    private static double orDefault(Integer v, int d) {
        return v == null ? d : v;
    }
}
