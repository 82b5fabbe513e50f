package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GenerationRequestTest {

    static GenerationRequest sample() {
        return new GenerationRequest(
                "a \"cat\", on a mat:\nline 2 \u00e9 \ud83d\ude00",
                "blurry",
                1234,
                20,
                7.5,
                "euler_a",
                "{ \"timestep_spacing\": \"trailing\", \"beta_start\": 1.0e-3 }",
                512,
                768,
                0.0,
                1,
                4,
                "p.csv:5",
                2,
                Map.of("label", "x"),
                null,
                null,
                null);
    }

    @Test
    void jsonRoundTrip() {
        GenerationRequest r = sample();
        GenerationRequest back = GenerationRequest.fromJson(r.toJson());
        assertEquals(
                GenerationRequest.of(
                        r.parameters(), r.sourceRow(), r.sourceId(), r.expansionIndex(), Map.of()),
                back);
        assertEquals(
                "{\"beta_start\":0.001,\"timestep_spacing\":\"trailing\"}", r.schedulerConfig());
    }

    @Test
    void jsonTextIsFixed() {
        // The PNG chunk's text: key order, number forms and escaping are part of the format.
        assertEquals(
                "{\"prompt\":\"a \\\"cat\\\", on a mat:\\nline 2 \u00e9 \ud83d\ude00\",\"negative_prompt\":\"blurry\",\"seed\":1234,\"steps\":20,\"guidance_scale\":7.5,"
                        + "\"scheduler\":\"euler_a\",\"scheduler_config\":{\"beta_start\":0.001,\"timestep_spacing\":\"trailing\"},\"width\":512,\"height\":768,\"eta\":0.0,"
                        + "\"clip_skip\":1,\"source_row\":4,\"source_id\":\"p.csv:5\",\"expansion_index\":2}",
                sample().toJson());
    }

    @Test
    void javaSerializationRoundTrip() throws Exception {
        GenerationRequest r = sample();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream o = new ObjectOutputStream(b)) {
            o.writeObject(r);
        }
        try (ObjectInputStream in =
                new ObjectInputStream(new ByteArrayInputStream(b.toByteArray()))) {
            assertEquals(r, in.readObject());
        }
    }

    @Test
    void rejectsNonFiniteAndBadJson() {
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new GenerationRequest(
                                "p",
                                "",
                                1,
                                1,
                                Double.NaN,
                                "ddim",
                                "{}",
                                8,
                                8,
                                0,
                                0,
                                0,
                                "r",
                                0,
                                null,
                                null,
                                null,
                                null));
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        new GenerationRequest(
                                "p", "", 1, 1, 1, "ddim", "[1]", 8, 8, 0, 0, 0, "r", 0, null, null,
                                null, null));
    }

    @Test
    void schedulerConfigCanonicalForm() {
        assertEquals("{}", SchedulerConfigJson.canonical((String) null));
        assertEquals("{}", SchedulerConfigJson.canonical("  "));
        assertEquals(
                "{\"a\":1,\"b\":{\"c\":[true,null,\"x\\n\"]}}",
                SchedulerConfigJson.canonical(
                        "{\"b\": {\"c\": [true, null, \"x\\n\"]}, \"a\": 1.0}"));
        assertThrows(
                IllegalArgumentException.class, () -> SchedulerConfigJson.parseObject("{a:1}"));
        assertThrows(IllegalArgumentException.class, () -> SchedulerConfigJson.parseObject("{} x"));
        assertThrows(
                IllegalArgumentException.class, () -> SchedulerConfigJson.parseObject("\"s\""));
    }

    @Test
    void schedulerNamesResolveAllSpellings() {
        assertEquals("euler_a", SchedulerNames.canonical("Euler a").orElseThrow());
        assertEquals(
                "euler_a",
                SchedulerNames.canonical("EULERANCESTRALDISCRETESCHEDULER").orElseThrow());
        assertEquals(
                "dpmpp_2m", SchedulerNames.canonical("DPMSolverMultistepScheduler").orElseThrow());
        assertEquals("dpmpp_2m_karras", SchedulerNames.canonical("dpm++ 2m karras").orElseThrow());
        assertEquals("pndm", SchedulerNames.canonical("PLMS").orElseThrow());
        assertEquals(false, SchedulerNames.canonical("euler_b").isPresent());
        // SD3's scheduler by alias and class; its infotext name "Euler" still means Euler
        assertEquals(
                "flow_match_euler",
                SchedulerNames.canonical("FlowMatchEulerDiscreteScheduler").orElseThrow());
        assertEquals(
                "flow_match_euler", SchedulerNames.canonical("flow_match_euler").orElseThrow());
        assertEquals("euler", SchedulerNames.canonical("Euler").orElseThrow());
    }
}
