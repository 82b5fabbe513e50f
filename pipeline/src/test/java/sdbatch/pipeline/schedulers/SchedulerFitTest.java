package sdbatch.pipeline.schedulers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import sdbatch.schemas.SchedulerNames;

/** Flow matching fits SD3 only; every other scheduler fits SD 1.x/2.x and SDXL only. */
class SchedulerFitTest {

    /** Every registered noise-prediction scheduler, by alias, A1111 name and diffusers class. */
    static Stream<String> noisePredictionNames() {
        return SchedulerNames.ALL.stream()
                .filter(e -> !e.diffusersClass().equals(FlowMatchEulerDiscreteScheduler.CLASS_NAME))
                .flatMap(e -> Stream.of(e.alias(), e.a1111Name(), e.diffusersClass()));
    }

    @ParameterizedTest
    @MethodSource("noisePredictionNames")
    void noisePredictionSchedulersFitSdAndSdxlNotSd3(String name) {
        assertNull(SchedulerFit.misfit(name, false));
        String why = SchedulerFit.misfit(name, true);
        assertTrue(why.contains("does not fit an SD3 model"), why);
    }

    @ParameterizedTest
    @ValueSource(strings = {"flow_match_euler", "FlowMatchEulerDiscreteScheduler"})
    void flowMatchingFitsSd3NotSdOrSdxl(String name) {
        assertNull(SchedulerFit.misfit(name, true));
        assertEquals(
                "is FlowMatchEulerDiscreteScheduler, which does not fit an SD 1.x/2.x or SDXL model"
                        + " (trained for noise prediction, not flow matching); the schedulers that"
                        + " fit: default, ddim, pndm, lms, euler, euler_a, dpmpp_2m,"
                        + " dpmpp_2m_karras, ddpm, heun, unipc",
                SchedulerFit.misfit(name, false));
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> SchedulerFit.check(name, false));
        assertTrue(
                e.getMessage().startsWith("scheduler " + name + ": is FlowMatch"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "default", "DEFAULT"})
    void theFoldersOwnSchedulerAlwaysFits(String name) {
        assertNull(SchedulerFit.misfit(name, true));
        assertNull(SchedulerFit.misfit(name, false));
        assertNull(SchedulerFit.misfit(null, false));
    }

    @Test
    void anUnknownNameIsNotAMisfitButAnError() {
        assertThrows(
                IllegalArgumentException.class, () -> SchedulerFit.misfit("k_dpm_9000", false));
    }
}
