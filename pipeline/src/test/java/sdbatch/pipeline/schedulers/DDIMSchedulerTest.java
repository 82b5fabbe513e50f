package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link DDIMScheduler} against diffusers' {@code tests/schedulers/test_scheduler_ddim.py} full
 * loops (expected numbers and tolerances copied from there; CPU values).
 */
class DDIMSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("DDIMScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1000,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\",\"clip_sample\":true}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new DDIMScheduler(config);
    }

    @Override
    boolean scaled() {
        return false;
    }

    static double[] fullLoop(String overrides) {
        try (DDIMScheduler s = new DDIMScheduler(config(overrides), 0.0)) {
            return DiffusersFixtures.plainLoop(s, 10);
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), 172.0067, 1e-2, 0.223967, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), 52.5302, 1e-2, 0.0684, 1e-3);
    }

    @Test
    void test_full_loop_with_set_alpha_to_one() {
        check(
                fullLoop("{\"set_alpha_to_one\":true,\"beta_start\":0.01}"),
                149.8295,
                1e-2,
                0.1951,
                1e-3);
    }

    @Test
    void test_full_loop_with_no_set_alpha_to_one() {
        check(
                fullLoop("{\"set_alpha_to_one\":false,\"beta_start\":0.01}"),
                149.0784,
                1e-2,
                0.1941,
                1e-3);
    }

    @Test
    void test_steps_offset() {
        try (DDIMScheduler s = new DDIMScheduler(config("{\"steps_offset\":1}"))) {
            s.setTimesteps(5);
            org.junit.jupiter.api.Assertions.assertArrayEquals(
                    new double[] {801, 601, 401, 201, 1}, s.timesteps());
        }
    }

    @Test
    void test_variance() {
        try (DDIMScheduler s = new DDIMScheduler(config("{}"))) {
            assertEquals(0.0, s.variance(0, 0), 1e-5);
            assertEquals(0.14771, s.variance(420, 400), 1e-5);
            assertEquals(0.32460, s.variance(980, 960), 1e-5);
            assertEquals(0.00979, s.variance(487, 486), 1e-5);
            assertEquals(0.02, s.variance(999, 998), 1e-5);
        }
    }

    @Test
    void etaAboveZeroDrawsNoise() {
        try (DDIMScheduler s = new DDIMScheduler(config("{}"), 0.7);
                DDIMScheduler d = new DDIMScheduler(config("{}"))) {
            org.junit.jupiter.api.Assertions.assertTrue(s.drawsNoise());
            org.junit.jupiter.api.Assertions.assertFalse(d.drawsNoise());
            double[] a = DiffusersFixtures.loop(s, 10, false, seededNoise(3));
            org.junit.jupiter.api.Assertions.assertNotEquals(172.0067, a[0], 1e-2);
        }
    }
}
