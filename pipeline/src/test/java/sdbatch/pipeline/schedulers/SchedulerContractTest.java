package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.noise.NoiseSource;

/**
 * What every scheduler must do, whatever its math (diffusers' {@code SchedulerCommonTest}): config
 * round trip, output shapes, reproducibility with a fresh instance, and no native arrays left
 * behind. One subclass per scheduler adds diffusers' full-loop numbers.
 */
abstract class SchedulerContractTest {

    /**
     * Compares a full loop's {@code result_sum}/{@code result_mean} with diffusers' expected values
     * (NaN sum: diffusers checks only the mean), printing both under the calling test's name. Each
     * tolerance must be below its value: diffusers' own tolerances (1e-2, 1e-3) exceed some of its
     * near-zero expected values, where an all-zero sample would pass.
     */
    static void check(double[] r, double sum, double sumTol, double mean, double meanTol) {
        System.out.printf(
                "%s sum %.6f (diffusers %s) mean %.8g (diffusers %s)%n",
                StackWalker.getInstance().walk(s -> s.skip(1).findFirst().get().getMethodName()),
                r[0],
                sum,
                r[1],
                mean);
        if (!Double.isNaN(sum)) {
            assertTrue(sumTol < Math.abs(sum), "sum tolerance " + sumTol + " passes a zero sample");
            assertEquals(sum, r[0], sumTol, "result_sum");
        }
        assertTrue(meanTol < Math.abs(mean), "mean tolerance " + meanTol + " passes a zero sample");
        assertEquals(mean, r[1], meanTol, "result_mean");
    }

    /** diffusers' {@code get_scheduler_config()} of the scheduler's test. */
    abstract SchedulerConfig config();

    abstract Scheduler create(SchedulerConfig config);

    /** Whether the loop scales inputs (sigma schedulers) as diffusers' full loops do. */
    abstract boolean scaled();

    /** A seeded Gaussian source for the contract checks (not torch's stream). */
    static NoiseSource seededNoise(long seed) {
        Random r = new Random(seed);
        return (manager, shape) -> {
            float[] v = new float[(int) shape.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            return manager.create(v, shape);
        };
    }

    float[] run(NDManager m, int steps) {
        try (Scheduler s = create(config())) {
            NDArray out = DiffusersFixtures.runLoop(m, s, steps, scaled(), seededNoise(7));
            // toFloatArray leaves a temporary in the array's manager: read it from a sub-manager
            try (NDManager read = m.newSubManager()) {
                out.attach(read);
                return out.toFloatArray();
            }
        }
    }

    @Test
    void configRoundTripsThroughJson() {
        SchedulerConfig c = create(config()).config();
        SchedulerConfig back = SchedulerConfig.parse(c.toJson());
        assertEquals(c, back);
        assertEquals(c.className(), back.className());
        try (Scheduler s = create(back)) {
            assertEquals(c.toJson(), s.config().toJson());
        }
    }

    @Test
    void stepKeepsTheSampleShape() {
        try (NDManager m = NDManager.newBaseManager();
                Scheduler s = create(config())) {
            s.setTimesteps(10);
            assertTrue(s.timesteps().length >= 10);
            NDArray sample = DiffusersFixtures.sampleDeter(m);
            double t = s.timesteps()[0];
            NDArray in = s.scaleModelInput(sample, t);
            assertEquals(sample.getShape(), in.getShape());
            SchedulerOutput o = s.step(DiffusersFixtures.model(in, t), t, sample, seededNoise(1));
            assertEquals(new Shape(4, 3, 8, 8), o.prevSample().getShape());
            assertEquals(m, o.prevSample().getManager());
            if (o.predOriginalSample() != null) {
                assertEquals(sample.getShape(), o.predOriginalSample().getShape());
            }
        }
    }

    @Test
    void freshInstancePerRunGivesIdenticalResults() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] a = run(m, 10);
            float[] b = run(m, 10);
            assertArrayEquals(a, b);
            for (float v : a) {
                assertFalse(Float.isNaN(v), "NaN in the output");
            }
        }
    }

    @Test
    void noNativeArrayLeaksAcrossRuns() {
        try (NDManager m = NDManager.newBaseManager()) {
            run(m, 6);
            int after1 = m.getManagedArrays().size();
            run(m, 6);
            run(m, 6);
            assertEquals(after1, m.getManagedArrays().size());
            assertEquals(0, after1, "arrays left after a closed run: " + m.getManagedArrays());
        }
    }

    @Test
    void stepBeforeSetTimestepsIsRefused() {
        try (NDManager m = NDManager.newBaseManager();
                Scheduler s = create(config())) {
            NDArray x = DiffusersFixtures.sampleDeter(m);
            try {
                s.step(x, 1, x, seededNoise(1));
            } catch (IllegalStateException expected) {
                return;
            }
            throw new AssertionError("step before setTimesteps was accepted");
        }
    }

    /** add_noise at {@code t} of a fresh scheduler with {@code beginIndex} set (or not, if -1). */
    private float[] noised(NDManager m, int steps, double t, int beginIndex) {
        try (Scheduler s = create(config())) {
            s.setTimesteps(steps);
            if (beginIndex >= 0) {
                s.setBeginIndex(beginIndex);
            }
            NDArray x = DiffusersFixtures.sampleDeter(m);
            NDArray noise = seededNoise(3).randn(m, x.getShape());
            NDArray out = s.addNoise(x, noise, t);
            assertEquals(x.getShape(), out.getShape());
            assertEquals(m, out.getManager());
            return out.toFloatArray();
        }
    }

    /**
     * img2img's start: add_noise at the first kept timestep gives the same noised sample whether
     * the scheduler finds the step by its begin index or by looking the timestep up, and it does
     * add noise.
     */
    @Test
    void addNoiseAtABeginIndexMatchesTheTimestepsOwnStep() {
        try (NDManager m = NDManager.newBaseManager();
                Scheduler s = create(config())) {
            s.setTimesteps(10);
            int begin = 4 * s.order();
            double t = s.timesteps()[begin];
            float[] byIndex = noised(m, 10, t, begin);
            float[] byLookup = noised(m, 10, t, -1);
            assertArrayEquals(byLookup, byIndex);
            float[] clean = DiffusersFixtures.sampleDeter(m).toFloatArray();
            assertFalse(java.util.Arrays.equals(clean, byIndex), "add_noise added no noise");
        }
    }

    /** diffusers' set_timesteps resets _begin_index: a new schedule does not start part-way. */
    @Test
    void setTimestepsForgetsTheBeginIndex() {
        try (NDManager m = NDManager.newBaseManager();
                Scheduler s = create(config())) {
            s.setTimesteps(10);
            s.setBeginIndex(6 * s.order());
            s.setTimesteps(10);
            double t = s.timesteps()[2 * s.order()];
            NDArray x = DiffusersFixtures.sampleDeter(m);
            float[] after = s.addNoise(x, seededNoise(3).randn(m, x.getShape()), t).toFloatArray();
            assertArrayEquals(noised(m, 10, t, -1), after);
        }
    }

    @Test
    void addNoiseRefusesNoiseOfAnotherShape() {
        try (NDManager m = NDManager.newBaseManager();
                Scheduler s = create(config())) {
            s.setTimesteps(10);
            NDArray x = DiffusersFixtures.sampleDeter(m);
            NDArray noise = m.zeros(new Shape(1, 3, 8, 8));
            double t = s.timesteps()[0];
            assertThrows(IllegalArgumentException.class, () -> s.addNoise(x, noise, t));
        }
    }
}
