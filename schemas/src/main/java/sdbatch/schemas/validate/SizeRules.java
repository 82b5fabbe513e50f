package sdbatch.schemas.validate;

import static sdbatch.schemas.validate.RowValidator.rejected;

import java.util.List;
import sdbatch.schemas.Columns;
import sdbatch.schemas.ExtraConditioning;
import sdbatch.schemas.GenerationParameters;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.ValidationResult.Problem;

/**
 * {@link RowValidator}'s rules for sizes in pixels: {@code width} and {@code height} are positive
 * multiples of 8 within the pixel limit, and SDXL's micro-conditioning sizes are &gt; 0 and its
 * crop offsets &gt;= 0.
 */
final class SizeRules {
    private SizeRules() {}

    /**
     * Checks a width and height (null = the default of {@code d}, which the job checks once, not
     * per row).
     */
    static void size(Integer w, Integer h, RequestDefaults d, List<Problem> out) {
        boolean ok = side(Columns.WIDTH, w, out) & side(Columns.HEIGHT, h, out);
        int ew = w != null ? w : d.width();
        int eh = h != null ? h : d.height();
        // Both null: the model default, which the job checks once, not per row.
        if (ok && (w != null || h != null) && (long) ew * eh > d.maxPixels()) {
            String column =
                    w != null && h != null
                            ? "width x height"
                            : w != null ? Columns.WIDTH : Columns.HEIGHT;
            out.add(
                    new Problem(
                            column,
                            ew + "x" + eh,
                            "has "
                                    + ((long) ew * eh)
                                    + " pixels, more than the limit of "
                                    + d.maxPixels()));
        }
    }

    private static boolean side(String column, Integer v, List<Problem> out) {
        if (v == null) {
            return true;
        }
        if (v <= 0 || v % 8 != 0) {
            out.add(
                    new Problem(
                            column,
                            Integer.toString(v),
                            "must be a positive multiple of 8 (diffusers' rule)"));
            return false;
        }
        return true;
    }

    /** SDXL's micro-conditioning columns: sizes &gt; 0, crop offsets &gt;= 0, in pixels. */
    static void microConditioning(PromptRow row, List<Problem> p) {
        GenerationParameters given = row.parameters();
        for (String column : ExtraConditioning.MICRO_CONDITIONING) {
            if (rejected(row, column, p) || given.value(column) == null) {
                continue;
            }
            int v = (Integer) given.value(column);
            boolean crop = column.equals(Columns.CROP_TOP) || column.equals(Columns.CROP_LEFT);
            if (crop ? v < 0 : v <= 0) {
                p.add(
                        new Problem(
                                column,
                                Integer.toString(v),
                                crop
                                        ? "must be >= 0 (SDXL's crop offset in pixels)"
                                        : "must be > 0 (SDXL's micro-conditioning size in"
                                                + " pixels)"));
            }
        }
    }
}
