package sdbatch.pipeline.schedulers;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link PNDMScheduler} against diffusers' {@code tests/schedulers/test_scheduler_pndm.py} full
 * loops (expected numbers and tolerances copied from there; CPU values).
 */
class PNDMSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("PNDMScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1000,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\"}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new PNDMScheduler(config);
    }

    @Override
    boolean scaled() {
        return false;
    }

    static double[] fullLoop(String overrides) {
        try (PNDMScheduler s = new PNDMScheduler(config(overrides))) {
            return DiffusersFixtures.plainLoop(s, 10);
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), 198.1318, 1e-2, 0.2580, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), 67.3986, 1e-2, 0.0878, 1e-3);
    }

    @Test
    void test_full_loop_with_set_alpha_to_one() {
        check(
                fullLoop("{\"set_alpha_to_one\":true,\"beta_start\":0.01}"),
                230.0399,
                1e-2,
                0.2995,
                1e-3);
    }

    @Test
    void test_full_loop_with_no_set_alpha_to_one() {
        check(
                fullLoop("{\"set_alpha_to_one\":false,\"beta_start\":0.01}"),
                186.9482,
                1e-2,
                0.2434,
                1e-3);
    }

    @Test
    void skipPrkStepsTimestepsAreStableDiffusions() {
        // SD 1.5 config, 10 steps: diffusers gives [901, 801, 801, 701, ..., 1]
        try (PNDMScheduler s =
                new PNDMScheduler(config("{\"skip_prk_steps\":true,\"steps_offset\":1}"))) {
            s.setTimesteps(10);
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    new double[] {901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1},
                    s.timesteps());
        }
    }
}
