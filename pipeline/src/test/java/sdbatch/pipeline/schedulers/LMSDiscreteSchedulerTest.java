package sdbatch.pipeline.schedulers;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link LMSDiscreteScheduler} against diffusers' {@code tests/schedulers/test_scheduler_lms.py}
 * full loops (expected numbers and tolerances copied from there; CPU values).
 */
class LMSDiscreteSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("LMSDiscreteScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1100,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\"}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new LMSDiscreteScheduler(config);
    }

    @Override
    boolean scaled() {
        return true;
    }

    static double[] fullLoop(String overrides) {
        try (LMSDiscreteScheduler s = new LMSDiscreteScheduler(config(overrides))) {
            return Dummies.scaledLoop(s, 10);
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), 1006.388, 1e-2, 1.31, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), 0.0017, 1e-2, 2.2676e-06, 1e-3);
    }

    @Test
    void test_full_loop_device_karras_sigmas() {
        check(fullLoop("{\"use_karras_sigmas\":true}"), 3812.9927, 2e-2, 4.9648, 1e-3);
    }
}
