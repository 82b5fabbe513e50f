package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link DDPMScheduler} against diffusers' {@code tests/schedulers/test_scheduler_ddpm.py} full
 * loops (expected numbers and tolerances copied from there; CPU values).
 */
class DDPMSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("DDPMScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1000,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\",\"variance_type\":\"fixed_small\",\"clip_sample\":true}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new DDPMScheduler(config);
    }

    @Override
    boolean scaled() {
        return false;
    }

    /**
     * diffusers' DDPM full loop: all 1000 training timesteps (no set_timesteps, so the previous
     * timestep is t - 1, which setTimesteps(1000) reproduces), noise from torch.manual_seed(0).
     */
    static double[] fullLoop(String overrides) {
        try (DDPMScheduler s = new DDPMScheduler(config(overrides))) {
            return DiffusersFixtures.loop(s, 1000, false, DiffusersFixtures.torchManualSeed(0));
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), 258.9606, 1e-2, 0.3372, 1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), 202.0296, 1e-2, 0.2631, 1e-3);
    }

    @Test
    void test_variance() {
        try (DDPMScheduler s = new DDPMScheduler(config("{}"))) {
            s.setTimesteps(1000);
            assertEquals(0.0, s.variance(0), 1e-5);
            assertEquals(0.00979, s.variance(487), 1e-5);
            assertEquals(0.02, s.variance(999), 1e-5);
        }
    }
}
