package sdbatch.pipeline.schedulers;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * {@link DPMSolverMultistepScheduler} against diffusers' {@code
 * tests/schedulers/test_scheduler_dpm_multi.py} full loops (expected numbers and tolerances copied
 * from there; CPU values).
 */
class DPMSolverMultistepSchedulerTest extends SchedulerContractTest {
    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    static SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults("DPMSolverMultistepScheduler")
                .withOverrides(
                        "{\"num_train_timesteps\":1000,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\",\"solver_order\":2,\"prediction_type\":\"epsilon\",\"thresholding\":false,\"sample_max_value\":1.0,\"algorithm_type\":\"dpmsolver++\",\"solver_type\":\"midpoint\",\"lower_order_final\":false,\"euler_at_final\":false,\"variance_type\":null,\"final_sigmas_type\":\"sigma_min\"}")
                .withOverrides(overrides);
    }

    @Override
    Scheduler create(SchedulerConfig config) {
        return new DPMSolverMultistepScheduler(config);
    }

    @Override
    boolean scaled() {
        return false;
    }

    static double[] fullLoop(String overrides) {
        try (DPMSolverMultistepScheduler s = new DPMSolverMultistepScheduler(config(overrides))) {
            return DiffusersFixtures.plainLoop(s, 10);
        }
    }

    @Test
    void test_full_loop_no_noise() {
        check(fullLoop("{}"), Double.NaN, 0, 0.3301, 1e-3);
    }

    @Test
    void test_full_loop_no_noise_thres() {
        check(
                fullLoop(
                        "{\"thresholding\":true,\"dynamic_thresholding_ratio\":0.87,\"sample_max_value\":0.5}"),
                Double.NaN,
                0,
                1.1364,
                1e-3);
    }

    @Test
    void test_full_loop_with_v_prediction() {
        check(fullLoop("{\"prediction_type\":\"v_prediction\"}"), Double.NaN, 0, 0.2251, 1e-3);
    }

    @Test
    void test_full_loop_with_karras_and_v_prediction() {
        check(
                fullLoop("{\"prediction_type\":\"v_prediction\",\"use_karras_sigmas\":true}"),
                Double.NaN,
                0,
                0.2096,
                1e-3);
    }

    @Test
    void test_switch() {
        // DPMSolverMultistep -> UniPC -> DPMSolverMultistep keeps the result (diffusers
        // test_switch)
        SchedulerConfig viaUniPC =
                config("{}")
                        .forClass("UniPCMultistepScheduler")
                        .forClass("DPMSolverMultistepScheduler");
        try (DPMSolverMultistepScheduler s = new DPMSolverMultistepScheduler(viaUniPC)) {
            check(DiffusersFixtures.plainLoop(s, 10), Double.NaN, 0, 0.3301, 1e-3);
        }
    }

    @Test
    void test_solver_order_and_type() {
        for (String alg : new String[] {"dpmsolver++", "sde-dpmsolver++"}) {
            for (String solver : new String[] {"midpoint", "heun"}) {
                for (int order = 1; order <= 3; order++) {
                    for (String pred : new String[] {"epsilon", "sample"}) {
                        if (alg.startsWith("sde") && order == 3) {
                            continue;
                        }
                        String o =
                                String.format(
                                        "{\"solver_order\":%d,\"solver_type\":\"%s\",\"prediction_type\":\"%s\",\"algorithm_type\":\"%s\"}",
                                        order, solver, pred, alg);
                        try (DPMSolverMultistepScheduler s =
                                new DPMSolverMultistepScheduler(config(o))) {
                            double[] r = DiffusersFixtures.loop(s, 10, false, seededNoise(0));
                            org.junit.jupiter.api.Assertions.assertFalse(
                                    Double.isNaN(r[0]), "NaN for " + o);
                        }
                    }
                }
            }
        }
    }
}
