package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import sdbatch.pipeline.config.SchedulerConfig;
import sdbatch.pipeline.testing.GoldenCases;

class SchedulersTest {
    static final SchedulerConfig SD15 =
            SchedulerConfig.parse(sdbatch.pipeline.config.SchedulerConfigTestAccess.PNDM_SD15);

    @Test
    void resolvesClassNamesAliasesAndA1111NamesCaseInsensitively() {
        String[][] cases = {
            {"EulerAncestralDiscreteScheduler", "EulerAncestralDiscreteScheduler", "Euler a"},
            {"euler_a", "EulerAncestralDiscreteScheduler", "Euler a"},
            {"Euler a", "EulerAncestralDiscreteScheduler", "Euler a"},
            {"EULER", "EulerDiscreteScheduler", "Euler"},
            {"lms", "LMSDiscreteScheduler", "LMS"},
            {"Heun", "HeunDiscreteScheduler", "Heun"},
            {"DDIM", "DDIMScheduler", "DDIM"},
            {"PLMS", "PNDMScheduler", "PLMS"},
            {"pndm", "PNDMScheduler", "PLMS"},
            {"UniPC", "UniPCMultistepScheduler", "UniPC"},
            {"ddpm", "DDPMScheduler", "DDPM"},
            {"DPM++ 2M", "DPMSolverMultistepScheduler", "DPM++ 2M"},
            {"dpmpp_2m", "DPMSolverMultistepScheduler", "DPM++ 2M"},
            {"DPM++ 2M Karras", "DPMSolverMultistepScheduler", "DPM++ 2M Karras"},
            {"dpmpp_2m_karras", "DPMSolverMultistepScheduler", "DPM++ 2M Karras"},
            {null, "PNDMScheduler", "PLMS"},
            {"default", "PNDMScheduler", "PLMS"},
        };
        for (String[] c : cases) {
            try (Scheduler s = Schedulers.create(c[0], SD15, null)) {
                assertEquals(c[1], Schedulers.canonicalName(s), c[0]);
                assertEquals(c[1], Schedulers.canonicalName(c[0], SD15));
                assertEquals(c[2], Schedulers.a1111Name(s), c[0]);
                assertEquals(c[2], Schedulers.a1111Name(c[0], SD15, null));
                assertEquals("scaled_linear", s.config().betaSchedule());
            }
        }
    }

    @Test
    void karrasAliasSetsUseKarrasSigmas() {
        try (Scheduler s = Schedulers.create("dpmpp_2m_karras", SD15, null)) {
            assertTrue(s.config().useKarrasSigmas());
        }
        try (Scheduler s = Schedulers.create("euler", SD15, "{\"use_karras_sigmas\":true}")) {
            assertEquals("Euler Karras", Schedulers.a1111Name(s));
        }
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Schedulers.create("k_dpm_3", SD15, null));
        assertTrue(e.getMessage().contains("k_dpm_3"));
        assertTrue(e.getMessage().contains("EulerAncestralDiscreteScheduler"));
        assertTrue(e.getMessage().contains("DPM++ 2M Karras"));
    }

    @Test
    void badOverrideIsAnError() {
        assertThrows(
                IllegalArgumentException.class,
                () -> Schedulers.create("euler", SD15, "{\"beta_schedule\":\"foo\"}"));
        assertThrows(
                IllegalArgumentException.class,
                () -> Schedulers.create("euler", SD15, "{\"no_such_key\":1}"));
    }

    @Test
    void noiseDrawingIsStatedByTheScheduler() {
        assertTrue(Schedulers.create("euler_a", SD15, null).drawsNoise());
        assertTrue(Schedulers.create("ddpm", SD15, null).drawsNoise());
        assertTrue(Schedulers.create("ddim", SD15, null, 0.7).drawsNoise());
        assertFalse(Schedulers.create("ddim", SD15, null, 0.0).drawsNoise());
        assertFalse(Schedulers.create("euler", SD15, null).drawsNoise());
        assertFalse(Schedulers.create("dpmpp_2m", SD15, null).drawsNoise());
        assertTrue(
                Schedulers.create("dpmpp_2m", SD15, "{\"algorithm_type\":\"sde-dpmsolver++\"}")
                        .drawsNoise());
    }

    /** diffusers' timesteps for the SD 1.5 config at 10 steps (from its set_timesteps code). */
    @Test
    void stableDiffusionTimesteps() {
        try (Scheduler s = Schedulers.create("ddim", SD15, null)) {
            s.setTimesteps(10);
            assertArrayEquals(
                    new double[] {901, 801, 701, 601, 501, 401, 301, 201, 101, 1}, s.timesteps());
        }
        try (Scheduler s = Schedulers.create("dpmpp_2m", SD15, null)) {
            s.setTimesteps(10);
            // leading with num_inference_steps + 1: step_ratio 1000 // 11 = 90
            assertArrayEquals(
                    new double[] {901, 811, 721, 631, 541, 451, 361, 271, 181, 91}, s.timesteps());
        }
    }

    /** Every scheduler/override combination of the golden pipeline cases builds and runs. */
    @TestFactory
    Stream<DynamicTest> goldenSchedulerCombinationsAreSupported() throws Exception {
        return GoldenCases.each(
                "Golden scheduler",
                "manifest.json",
                "pipeline",
                (g, c) -> {
                    SchedulerConfig folder =
                            SchedulerConfig.read(
                                    g.resolve(c.get("model").getAsString())
                                            .resolve("scheduler/scheduler_config.json"));
                    String overrides = c.get("scheduler_overrides").toString();
                    double eta = c.get("eta").getAsDouble();
                    try (Scheduler s =
                            Schedulers.create(
                                    c.get("scheduler").getAsString(), folder, overrides, eta)) {
                        assertEquals(
                                c.get("scheduler_class").getAsString(),
                                Schedulers.canonicalName(s));
                        s.setTimesteps(c.get("steps").getAsInt());
                        assertEquals(eta > 0, s instanceof DDIMScheduler && s.drawsNoise());
                        double[] r =
                                DiffusersFixtures.loop(
                                        s,
                                        c.get("steps").getAsInt(),
                                        true,
                                        SchedulerContractTest.seededNoise(1));
                        assertFalse(Double.isNaN(r[0]), c.get("name").getAsString());
                    }
                });
    }
}
