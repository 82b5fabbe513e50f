package sdbatch.pipeline.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Comparisons of float arrays that tests print or hold to a tolerance. */
public final class FloatArrays {
    private FloatArrays() {}

    /**
     * The largest {@code |a[i] - b[i]|}, each difference taken in float as the arrays hold it (NaN
     * if any is NaN); the lengths must agree.
     */
    public static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "array lengths");
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    /**
     * numpy's {@code allclose}: every {@code |got[i] - want[i]| <= atol + rtol * |want[i]|}; the
     * message names the first element that is not, its two values and the bound.
     */
    public static void assertAllClose(float[] want, float[] got, double atol, double rtol) {
        assertEquals(want.length, got.length, "array lengths");
        for (int i = 0; i < want.length; i++) {
            double bound = atol + rtol * Math.abs(want[i]);
            if (!(Math.abs(want[i] - got[i]) <= bound)) {
                fail(
                        "element "
                                + i
                                + ": want "
                                + want[i]
                                + ", got "
                                + got[i]
                                + " (bound "
                                + bound
                                + ")");
            }
        }
    }
}
