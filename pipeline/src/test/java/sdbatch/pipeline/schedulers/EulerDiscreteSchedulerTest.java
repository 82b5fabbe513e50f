package sdbatch.pipeline.schedulers;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link EulerDiscreteScheduler} against diffusers' {@code
 * tests/schedulers/test_scheduler_euler.py} full loops (expected numbers and tolerances copied from
 * there; CPU values).
 */
class EulerDiscreteSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("EulerDiscreteScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1100,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\"}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new EulerDiscreteScheduler(config);
    }

    @Override
    boolean scaled() {
        return true;
    }

    static double[] fullLoop(String overrides) {
        try (EulerDiscreteScheduler s = new EulerDiscreteScheduler(config(overrides))) {
            return Dummies.scaledLoop(s, 10);
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), 10.0807, 1e-2, 0.0131, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), 0.0002, 1e-2, 2.2676e-06, 1e-3);
    }

    @Test
    void test_full_loop_device_karras_sigmas() {
        check(
                fullLoop("{\"use_karras_sigmas\":true}"),
                124.52299499511719,
                1e-2,
                0.16213932633399963,
                1e-3);
    }

    @Test
    void karrasTimestepsAreNotIntegers() {
        try (EulerDiscreteScheduler s =
                new EulerDiscreteScheduler(config("{\"use_karras_sigmas\":true}"))) {
            s.setTimesteps(10);
            double t = s.timesteps()[3];
            org.junit.jupiter.api.Assertions.assertNotEquals(Math.rint(t), t);
        }
    }
}
