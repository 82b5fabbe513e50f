package sdbatch.pipeline.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
