package sdbatch.pipeline.schedulers;

import org.junit.jupiter.api.Test;
import sdbatch.pipeline.config.SchedulerConfig;

/**
 * What the sigma schedulers (Euler, LMS, Heun) share in their diffusers tests: the same {@code
 * get_scheduler_config()}, scaled full loops, and the element-by-element checks against the float64
 * reference of {@link SigmaReference}. Each subclass adds diffusers' full-loop numbers and its own
 * {@code diffusersFullLoopMatchesTheFloat64ReferenceElementwise} cases.
 */
abstract class SigmaSchedulerContractTest extends SchedulerContractTest {

    /** The scheduler's diffusers class name (its config's {@code _class_name}). */
    abstract String className();

    /** The float64 reference's method for this scheduler. */
    abstract SigmaReference.Method method();

    @Override
    SchedulerConfig config() {
        return config("{}");
    }

    /** diffusers' {@code get_scheduler_config(**kwargs)}. */
    SchedulerConfig config(String overrides) {
        return SchedulerConfig.defaults(className())
                .withOverrides(
                        "{\"num_train_timesteps\":1100,\"beta_start\":0.0001,\"beta_end\":0.02,\"beta_schedule\":\"linear\"}")
                .withOverrides(overrides);
    }

    @Override
    boolean scaled() {
        return true;
    }

    /** diffusers' full loop of 10 steps ({@code [result_sum, result_mean]}). */
    double[] fullLoop(String overrides) {
        try (Scheduler s = create(config(overrides))) {
            return DiffusersFixtures.scaledLoop(s, 10);
        }
    }

    // ---- element by element against the float64 reference (SigmaReference) --------------------

    void assertMatchesReference(
            String overrides, int steps, boolean withOffset, boolean diffusersTestLoop) {
        SigmaReference.assertMatches(
                method(), this::create, config(overrides), steps, withOffset, diffusersTestLoop);
    }

    @Test
    void epsilonMatchesTheFloat64ReferenceElementwise() {
        assertMatchesReference("{}", 10, true, false);
    }

    @Test
    void vPredictionMatchesTheFloat64ReferenceElementwise() {
        assertMatchesReference("{\"prediction_type\":\"v_prediction\"}", 10, true, false);
    }

    @Test
    void samplePredictionMatchesTheFloat64ReferenceElementwise() {
        assertMatchesReference("{\"prediction_type\":\"sample\"}", 10, true, false);
    }

    @Test
    void karrasSigmasMatchTheFloat64ReferenceElementwise() {
        assertMatchesReference("{\"use_karras_sigmas\":true}", 10, true, false);
        assertMatchesReference(
                "{\"use_karras_sigmas\":true,\"prediction_type\":\"v_prediction\"}",
                10,
                true,
                false);
    }

    @Test
    void stableDiffusionBetasMatchTheFloat64ReferenceElementwise() {
        String sd =
                "{\"num_train_timesteps\":1000,\"beta_start\":0.00085,\"beta_end\":0.012,"
                        + "\"beta_schedule\":\"scaled_linear\"";
        assertMatchesReference(sd + "}", 25, true, false);
        assertMatchesReference(sd + ",\"prediction_type\":\"v_prediction\"}", 25, true, false);
    }
}
