package sdbatch.pipeline.schedulers;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link EulerAncestralDiscreteScheduler} against diffusers' {@code
 * tests/schedulers/test_scheduler_euler_ancestral.py} full loops (expected numbers and tolerances
 * copied from there; CPU values).
 */
class EulerAncestralDiscreteSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("EulerAncestralDiscreteScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1100,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\"}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new EulerAncestralDiscreteScheduler(config);
    }

    @Override
    boolean scaled() {
        return true;
    }

    static double[] fullLoop(String overrides) {
        try (EulerAncestralDiscreteScheduler s =
                new EulerAncestralDiscreteScheduler(config(overrides))) {
            return DiffusersFixtures.loop(s, 10, true, DiffusersFixtures.torchManualSeed(0));
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), 152.3192, 1e-2, 0.1983, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), 108.4439, 1e-2, 0.1412, 1e-3);
    }

    @Test
    void drawsNoiseEveryStep() {
        try (EulerAncestralDiscreteScheduler s =
                new EulerAncestralDiscreteScheduler(config("{}"))) {
            org.junit.jupiter.api.Assertions.assertTrue(s.drawsNoise());
            double[] a = DiffusersFixtures.loop(s, 10, true, seededNoise(1));
            try (EulerAncestralDiscreteScheduler s2 =
                    new EulerAncestralDiscreteScheduler(config("{}"))) {
                double[] b = DiffusersFixtures.loop(s2, 10, true, seededNoise(2));
                org.junit.jupiter.api.Assertions.assertNotEquals(a[0], b[0]);
            }
        }
    }
}
