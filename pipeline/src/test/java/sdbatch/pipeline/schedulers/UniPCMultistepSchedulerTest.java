package sdbatch.pipeline.schedulers;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link UniPCMultistepScheduler} against diffusers' {@code
 * tests/schedulers/test_scheduler_unipc.py} full loops (expected numbers and tolerances copied from
 * there; CPU values).
 */
class UniPCMultistepSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("UniPCMultistepScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1000,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\",\"solver_order\":2,\"solver_type\":\"bh2\",\"final_sigmas_type\":\"sigma_min\"}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new UniPCMultistepScheduler(config);
    }

    @Override
    boolean scaled() {
        return false;
    }

    static double[] fullLoop(String overrides, long... spatial) {
        try (UniPCMultistepScheduler s = new UniPCMultistepScheduler(config(overrides))) {
            return DiffusersFixtures.plainLoop(s, 10, spatial);
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), Double.NaN, 0, 0.2464, 1e-3);
    }

    @Test
    void test_full_loop_with_karras() {
        check(fullLoop("{\"use_karras_sigmas\":true}"), Double.NaN, 0, 0.2925, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), Double.NaN, 0, 0.1014, 1e-3);
    }

    @Test
    void test_full_loop_with_karras_and_v_prediction() {
        check(
                fullLoop("{\"prediction_type\":\"v_prediction\",\"use_karras_sigmas\":true}"),
                Double.NaN,
                0,
                0.1966,
                1e-3);
    }

    /** diffusers UniPCMultistepScheduler1DTest: samples of shape (4, 3, 8). */
    @Test
    void test_full_loop_no_noise_1d() {
        check(fullLoop("{}", 8), Double.NaN, 0, 0.2441, 1e-3);
    }

    @Test
    void test_full_loop_with_karras_1d() {
        check(fullLoop("{\"use_karras_sigmas\":true}", 8), Double.NaN, 0, 0.2898, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction_1d() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}", 8), Double.NaN, 0, 0.1014, 1e-3);
    }

    @Test
    void test_full_loop_with_karras_and_v_prediction_1d() {
        check(
                fullLoop("{\"prediction_type\":\"v_prediction\",\"use_karras_sigmas\":true}", 8),
                Double.NaN,
                0,
                0.1944,
                1e-3);
    }
}
