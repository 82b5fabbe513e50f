package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link FlowMatchEulerDiscreteScheduler} against the formulas of diffusers' {@code
 * scheduling_flow_match_euler_discrete.py}, each written out again here in double precision
 * (diffusers has no full-loop numbers for this class): the shifted sigmas, the timesteps {@code
 * sigma * 1000}, the dynamic (exponential and linear) shift with {@code mu}, {@code
 * shift_terminal}, the Euler step and the forward process. CPU only; no hardware dependence.
 */
class FlowMatchEulerDiscreteSchedulerTest extends SchedulerContractTest {
    /** SD3-medium's scheduler_config.json. */
    static final String SD3 = "{\"shift\": 3.0}";

    @Override
    SchedulerConfig config() {
        return SchedulerConfig.defaults(FlowMatchEulerDiscreteScheduler.CLASS_NAME)
                .withOverrides(SD3);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new FlowMatchEulerDiscreteScheduler(config);
    }

    @Override
    boolean scaled() {
        return false;
    }

    private static FlowMatchEulerDiscreteScheduler scheduler(String overrides) {
        return new FlowMatchEulerDiscreteScheduler(
                SchedulerConfig.defaults(FlowMatchEulerDiscreteScheduler.CLASS_NAME)
                        .withOverrides(overrides));
    }

    /** {@code shift * s / (1 + (shift - 1) * s)}. */
    private static double shifted(double shift, double s) {
        return shift * s / (1 + (shift - 1) * s);
    }

    /**
     * The unshifted sigmas of {@code set_timesteps}: evenly spaced from the largest training sigma
     * (1, shifted: 1) to the smallest ({@code shifted(1/1000)}), in timestep units then / 1000.
     */
    private static double[] evenlySpaced(double first, double last, int n) {
        double[] u = new double[n];
        for (int i = 0; i < n; i++) {
            u[i] = n == 1 ? first : first + (last - first) * i / (n - 1);
        }
        return u;
    }

    private static void assertSchedule(
            double[] expectedSigmas, FlowMatchEulerDiscreteScheduler s, double terminal) {
        float[] sig = s.sigmas();
        double[] t = s.timesteps();
        assertEquals(expectedSigmas.length + 1, sig.length, "sigmas + the terminal one");
        assertEquals(expectedSigmas.length, t.length);
        for (int i = 0; i < expectedSigmas.length; i++) {
            assertEquals(expectedSigmas[i], sig[i], 1e-6, "sigma " + i);
            assertEquals(expectedSigmas[i] * 1000, t[i], 1e-3, "timestep " + i);
        }
        assertEquals(terminal, sig[sig.length - 1], 0.0, "terminal sigma");
    }

    @Test
    void shiftedSigmasAndTimesteps() {
        for (double shift : new double[] {1.0, 1.5, 3.0, 6.0}) {
            for (int n : new int[] {1, 2, 8, 28}) {
                try (FlowMatchEulerDiscreteScheduler s = scheduler("{\"shift\": " + shift + "}")) {
                    s.setTimesteps(n);
                    double sigmaMin = shifted(shift, 1.0 / 1000);
                    double[] u = evenlySpaced(1.0, sigmaMin, n);
                    double[] expected = new double[n];
                    for (int i = 0; i < n; i++) {
                        expected[i] = shifted(shift, u[i]);
                    }
                    assertSchedule(expected, s, 0.0);
                }
            }
        }
    }

    @Test
    void sd3DefaultScheduleStartsAtTimestep1000() {
        try (FlowMatchEulerDiscreteScheduler s = scheduler(SD3)) {
            s.setTimesteps(8);
            assertEquals(1000.0, s.timesteps()[0], 0.0);
            // the last sigma: shift(shift(0.001)) with shift 3: twice shifted, once in __init__
            // (the training sigmas' end) and once in set_timesteps
            double last = shifted(3, shifted(3, 0.001));
            assertEquals(last, s.sigmas()[7], 1e-7);
        }
    }

    @Test
    void dynamicShiftingNeedsMuAndShiftsExponentially() {
        String cfg = "{\"use_dynamic_shifting\": true, \"shift\": 3.0}";
        try (FlowMatchEulerDiscreteScheduler s = scheduler(cfg)) {
            assertThrows(IllegalArgumentException.class, () -> s.setTimesteps(4));
            double mu = 0.8;
            s.setMu(mu);
            s.setTimesteps(4);
            // __init__ does not shift when dynamic: the training sigmas end at 1/1000
            double[] u = evenlySpaced(1.0, 0.001, 4);
            double[] expected = new double[4];
            for (int i = 0; i < 4; i++) {
                expected[i] = Math.exp(mu) / (Math.exp(mu) + (1 / u[i] - 1));
            }
            assertSchedule(expected, s, 0.0);
        }
        String linear = "{\"use_dynamic_shifting\": true, \"time_shift_type\": \"linear\"}";
        try (FlowMatchEulerDiscreteScheduler s = scheduler(linear)) {
            s.setMu(2.0);
            s.setTimesteps(3);
            double[] u = evenlySpaced(1.0, 0.001, 3);
            double[] expected = new double[3];
            for (int i = 0; i < 3; i++) {
                expected[i] = 2.0 / (2.0 + (1 / u[i] - 1));
            }
            assertSchedule(expected, s, 0.0);
        }
    }

    @Test
    void calculateShiftIsLinearInTheTokenCount() {
        SchedulerConfig c =
                SchedulerConfig.defaults(FlowMatchEulerDiscreteScheduler.CLASS_NAME)
                        .withOverrides("{\"base_shift\": 0.5, \"max_shift\": 1.15}");
        assertEquals(0.5, FlowMatchEulerDiscreteScheduler.calculateShift(c, 256), 1e-12);
        assertEquals(1.15, FlowMatchEulerDiscreteScheduler.calculateShift(c, 4096), 1e-12);
        assertEquals(
                0.5 + 0.65 * (1024 - 256) / 3840.0,
                FlowMatchEulerDiscreteScheduler.calculateShift(c, 1024),
                1e-12);
    }

    @Test
    void shiftTerminalStretchesTheScheduleToEndThere() {
        try (FlowMatchEulerDiscreteScheduler s =
                scheduler("{\"shift\": 3.0, \"shift_terminal\": 0.1}")) {
            s.setTimesteps(5);
            double[] u = evenlySpaced(1.0, shifted(3, 0.001), 5);
            double[] z = new double[5];
            for (int i = 0; i < 5; i++) {
                z[i] = shifted(3, u[i]);
            }
            double scale = (1 - z[4]) / (1 - 0.1);
            double[] expected = new double[5];
            for (int i = 0; i < 5; i++) {
                expected[i] = 1 - (1 - z[i]) / scale;
            }
            assertSchedule(expected, s, 0.0);
            assertEquals(0.1, s.sigmas()[4], 1e-6);
        }
    }

    @Test
    void invertedSigmasEndAtOne() {
        try (FlowMatchEulerDiscreteScheduler s =
                scheduler("{\"shift\": 1.0, \"invert_sigmas\": true}")) {
            s.setTimesteps(3);
            double[] u = evenlySpaced(1.0, 0.001, 3);
            double[] expected = new double[3];
            for (int i = 0; i < 3; i++) {
                expected[i] = 1 - u[i];
            }
            assertSchedule(expected, s, 1.0);
        }
    }

    /** Each step is {@code sample + (sigma_next - sigma) * v}; the last one lands on x0 = x - v. */
    @Test
    void eulerStepFollowsTheVelocity() {
        try (NDManager m = NDManager.newBaseManager();
                FlowMatchEulerDiscreteScheduler s = scheduler(SD3)) {
            s.setTimesteps(3);
            double[] t = s.timesteps();
            float[] sig = s.sigmas();
            float[] x = {0.5f, -1.25f, 2f, 0.125f};
            float[] v = {1f, 0.5f, -0.75f, 3f};
            NDArray sample = m.create(x, new Shape(1, 1, 2, 2));
            for (int k = 0; k < 3; k++) {
                NDArray vel = m.create(v, new Shape(1, 1, 2, 2));
                sample = s.step(vel, t[k], sample, null).prevSample();
                for (int i = 0; i < 4; i++) {
                    x[i] += (sig[k + 1] - sig[k]) * v[i];
                }
                float[] got = sample.toFloatArray();
                for (int i = 0; i < 4; i++) {
                    assertEquals(x[i], got[i], 1e-6, "step " + k + " element " + i);
                }
            }
            // from sigma 1 to 0 with a constant velocity: x_end = x_start - v
            float[] got = sample.toFloatArray();
            float[] start = {0.5f, -1.25f, 2f, 0.125f};
            for (int i = 0; i < 4; i++) {
                assertEquals(start[i] - v[i], got[i], 1e-6);
            }
        }
    }

    @Test
    void scaleNoiseMixesSampleAndNoiseBySigma() {
        try (NDManager m = NDManager.newBaseManager();
                FlowMatchEulerDiscreteScheduler s = scheduler(SD3)) {
            s.setTimesteps(4);
            double t = s.timesteps()[2];
            double sigma = s.sigmas()[2];
            NDArray x = m.create(new float[] {1f, 2f}, new Shape(1, 2));
            NDArray n = m.create(new float[] {-1f, 0.5f}, new Shape(1, 2));
            float[] got = s.addNoise(x, n, t).toFloatArray();
            assertEquals(sigma * -1 + (1 - sigma) * 1, got[0], 1e-6);
            assertEquals(sigma * 0.5 + (1 - sigma) * 2, got[1], 1e-6);
        }
    }

    @Test
    void registeredUnderItsClassNameNotAsEuler() {
        SchedulerConfig folder = config();
        assertEquals(
                FlowMatchEulerDiscreteScheduler.CLASS_NAME,
                Schedulers.canonicalName("default", folder));
        assertEquals(
                FlowMatchEulerDiscreteScheduler.CLASS_NAME,
                Schedulers.canonicalName("flow_match_euler", folder));
        assertEquals("EulerDiscreteScheduler", Schedulers.canonicalName("Euler", folder));
        try (Scheduler s = Schedulers.create(null, folder, "{\"shift\": 1.5}")) {
            assertEquals(1.5, ((FlowMatchEulerDiscreteScheduler) s).config().shift(), 0.0);
            assertEquals(1f, s.initNoiseSigma(), 0f);
        }
    }
}
