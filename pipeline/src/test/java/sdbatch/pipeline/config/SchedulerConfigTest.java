package sdbatch.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.testing.SharedData;

class SchedulerConfigTest {
    static final String PNDM_SD15 =
            "{\"_class_name\":\"PNDMScheduler\",\"_diffusers_version\":\"0.40.0.dev0\","
                    + "\"beta_end\":0.012,\"beta_schedule\":\"scaled_linear\",\"beta_start\":0.00085,"
                    + "\"clip_sample\":false,\"num_train_timesteps\":1000,\"prediction_type\":\"epsilon\","
                    + "\"set_alpha_to_one\":false,\"skip_prk_steps\":true,\"steps_offset\":1,"
                    + "\"timestep_spacing\":\"leading\",\"trained_betas\":null,\"some_future_key\":3}";

    @Test
    void parsesKnownKeysAndKeepsUnknownOnesInExtra() {
        SchedulerConfig c = SchedulerConfig.parse(PNDM_SD15);
        assertEquals("PNDMScheduler", c.className());
        assertEquals("scaled_linear", c.betaSchedule());
        assertEquals(0.00085, c.betaStart());
        assertEquals(1, c.stepsOffset());
        assertTrue(c.skipPrkSteps());
        assertEquals(null, c.trainedBetas());
        assertTrue(c.extra().containsKey("_diffusers_version"));
        assertTrue(c.extra().containsKey("some_future_key"));
    }

    @Test
    void defaultsFollowTheClassReadFor() {
        SchedulerConfig pndm = SchedulerConfig.parse(PNDM_SD15);
        // Euler's own defaults for keys the file lacks, the file's values for shared keys
        SchedulerConfig euler = pndm.forClass("EulerDiscreteScheduler");
        assertEquals("leading", euler.timestepSpacing());
        assertFalse(euler.useKarrasSigmas());
        assertEquals(
                "linspace", SchedulerConfig.defaults("EulerDiscreteScheduler").timestepSpacing());
        assertTrue(SchedulerConfig.defaults("DDIMScheduler").clipSample());
        assertTrue(SchedulerConfig.defaults("DDIMScheduler").setAlphaToOne());
        assertFalse(SchedulerConfig.defaults("PNDMScheduler").setAlphaToOne());
        assertEquals(0.00085, SchedulerConfig.defaults("HeunDiscreteScheduler").betaStart());
        assertEquals("bh2", SchedulerConfig.defaults("UniPCMultistepScheduler").solverType());
        assertEquals(
                "midpoint", SchedulerConfig.defaults("DPMSolverMultistepScheduler").solverType());
        assertEquals("fixed_small", SchedulerConfig.defaults("DDPMScheduler").varianceType());
        assertEquals(null, SchedulerConfig.defaults("DPMSolverMultistepScheduler").varianceType());
        assertEquals(
                Double.NEGATIVE_INFINITY,
                SchedulerConfig.defaults("DPMSolverMultistepScheduler").lambdaMinClipped());
    }

    @Test
    void roundTripsThroughJson() {
        SchedulerConfig c =
                SchedulerConfig.parse(PNDM_SD15).withOverrides("{\"use_karras_sigmas\": true}");
        assertEquals(c, SchedulerConfig.parse(c.toJson()));
    }

    @Test
    void overridesApplyLikeFromConfigKwargs() {
        SchedulerConfig c =
                SchedulerConfig.parse(PNDM_SD15)
                        .withOverrides("{\"timestep_spacing\":\"trailing\",\"steps_offset\":0}");
        assertEquals("trailing", c.timestepSpacing());
        assertEquals(0, c.stepsOffset());
        assertEquals("scaled_linear", c.betaSchedule());
    }

    @Test
    void badOverridesNameTheKeyAndValue() {
        SchedulerConfig c = SchedulerConfig.parse(PNDM_SD15);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> c.withOverrides("{\"foo\":1}"));
        assertTrue(e.getMessage().contains("foo"), e.getMessage());
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> c.withOverrides("{\"beta_schedule\":\"foo\"}"));
        assertTrue(e.getMessage().contains("beta_schedule") && e.getMessage().contains("foo"));
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> c.withOverrides("{\"steps_offset\":-1}"));
        assertTrue(e.getMessage().contains("steps_offset") && e.getMessage().contains("-1"));
        e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> c.withOverrides("{\"use_karras_sigmas\":\"yes\"}"));
        assertTrue(e.getMessage().contains("use_karras_sigmas"));
        assertThrows(
                IllegalArgumentException.class, () -> c.withOverrides("{\"steps_offset\":1.5}"));
        assertThrows(IllegalArgumentException.class, () -> c.withOverrides("[1]"));
        assertThrows(IllegalArgumentException.class, () -> c.withOverrides("{not json"));
    }

    @Test
    void missingClassNameIsAnError() {
        assertThrows(
                IllegalArgumentException.class, () -> SchedulerConfig.parse("{\"beta_end\":1}"));
    }

    @Test
    void readsTheGoldenFoldersConfigs() throws Exception {
        Path g = SharedData.golden();
        SchedulerConfig sd1 =
                SchedulerConfig.read(g.resolve("tiny-sd1/scheduler/scheduler_config.json"));
        assertEquals("PNDMScheduler", sd1.className());
        SchedulerConfig sd2 =
                SchedulerConfig.read(g.resolve("tiny-sd2v/scheduler/scheduler_config.json"));
        assertEquals("DDIMScheduler", sd2.className());
        assertEquals("v_prediction", sd2.predictionType());
    }

    /**
     * Issue 15 item 2: every numeric key is bounded, in a model's own file as in an override, so no
     * config sizes the schedule arrays ({@code new float[num_train_timesteps]}) or makes NaN
     * schedules.
     */
    @Test
    void numericKeysOutsideTheirRangesAreRefusedNamingKeyAndRange() {
        SchedulerConfig c = SchedulerConfig.parse(PNDM_SD15);
        String[][] cases = {
            {"{\"num_train_timesteps\": 2147483647}", "num_train_timesteps", "[1, 10000]"},
            {"{\"num_train_timesteps\": 0}", "num_train_timesteps", ">= 1"},
            {"{\"beta_end\": 1e999999999}", "beta_end", "beyond a double's range"},
            {"{\"beta_start\": -0.1}", "beta_start", "(0, 1)"},
            {"{\"beta_end\": 1}", "beta_end", "(0, 1)"},
            {"{\"dynamic_thresholding_ratio\": 0}", "dynamic_thresholding_ratio", "(0, 1]"},
            {"{\"clip_sample_range\": 1e300}", "clip_sample_range", "(0, 1000]"},
            {"{\"sigma_max\": -1}", "sigma_max", "[0, 10000]"},
            {"{\"solver_order\": 4}", "solver_order", "[1, 3]"},
            {"{\"lambda_min_clipped\": \"Infinity\"}", "lambda_min_clipped", "1000]"},
            {"{\"trained_betas\": [0.5, 0]}", "trained_betas[1]", "(0, 1]"},
            {"{\"disable_corrector\": [1, 20000]}", "disable_corrector[1]", "[0, 10000]"},
        };
        for (String[] k : cases) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> c.withOverrides(k[0]), k[0]);
            assertTrue(e.getMessage().contains("key " + k[1] + " "), e.getMessage());
            assertTrue(e.getMessage().contains(k[2]), e.getMessage());
        }
        String file =
                PNDM_SD15.replace(
                        "\"num_train_timesteps\":1000", "\"num_train_timesteps\":2147483647");
        assertTrue(file.contains("2147483647"), "the fixture has num_train_timesteps 1000");
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfig.parse(file));
        // diffusers' own values, and the range ends, are fine.
        c.withOverrides(
                "{\"num_train_timesteps\": 10000, \"beta_end\": 0.999, \"lambda_min_clipped\":"
                        + " \"-Infinity\", \"trained_betas\": [0.0001, 1], \"solver_order\": 3}");
        int[] tooMany = new int[10_001];
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                c.withOverrides(
                                        "{\"disable_corrector\": "
                                                + java.util.Arrays.toString(tooMany)
                                                + "}"));
        assertTrue(e.getMessage().contains("at most 10000"), e.getMessage());
    }
}
