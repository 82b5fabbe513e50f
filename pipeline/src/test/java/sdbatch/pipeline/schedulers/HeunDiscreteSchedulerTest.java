package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link HeunDiscreteScheduler} against diffusers' {@code tests/schedulers/test_scheduler_heun.py}
 * full loops (expected numbers and tolerances copied from there; CPU values).
 */
class HeunDiscreteSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("HeunDiscreteScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1100,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\"}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new HeunDiscreteScheduler(config);
    }

    @Override
    boolean scaled() {
        return true;
    }

    static double[] fullLoop(String overrides) {
        try (HeunDiscreteScheduler s = new HeunDiscreteScheduler(config(overrides))) {
            return Dummies.scaledLoop(s, 10);
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), 0.1233, 1e-2, 0.0002, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(
                fullLoop("{\"prediction_type\":\"v_prediction\"}"),
                4.6934e-07,
                1e-2,
                6.1112e-10,
                1e-3);
    }

    @Test
    void test_full_loop_device_karras_sigmas() {
        check(
                fullLoop("{\"use_karras_sigmas\":true}"),
                0.00015,
                1e-2,
                1.9869554535034695e-07,
                1e-2);
    }

    @Test
    void innerTimestepsAreDuplicated() {
        try (HeunDiscreteScheduler s = new HeunDiscreteScheduler(config("{}"))) {
            s.setTimesteps(3);
            assertEquals(2, s.order());
            assertEquals(5, s.timesteps().length);
            assertEquals(s.timesteps()[1], s.timesteps()[2]);
            assertEquals(s.timesteps()[3], s.timesteps()[4]);
        }
    }
}
