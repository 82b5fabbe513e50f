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
}
