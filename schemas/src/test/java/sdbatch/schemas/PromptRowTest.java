package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromptRowTest {

    @Test
    void convertsTypesResolvesAliasesAndKeepsPassthroughOrder() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", "cat-1");
        m.put("Prompt", "a cat");
        m.put("num_inference_steps", "20");
        m.put("guidance_scale", 7);
        m.put("seed", 42.0);
        m.put("width", 512L);
        m.put("my_id", 17);
        PromptRow r = PromptRow.fromColumns(3, "t.csv:4", m);
        assertEquals("a cat", r.parameters().prompt());
        assertEquals(20, r.parameters().steps());
        assertEquals(7.0, r.parameters().guidanceScale());
        assertEquals(42L, r.parameters().seed());
        assertEquals(512, r.parameters().width());
        assertNull(r.parameters().height());
        assertEquals(List.of("label", "my_id"), List.copyOf(r.passthrough().keySet()));
        assertTrue(r.rejected().isEmpty());
    }

    @Test
    void keepsUnconvertibleValuesAsRejected() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", 12);
        m.put("steps", "abc");
        m.put("width", 512.5);
        m.put("eta", true);
        m.put("seed", "99999999999999999999999");
        PromptRow r = PromptRow.fromColumns(0, null, m);
        assertNull(r.parameters().prompt());
        assertNull(r.parameters().steps());
        assertEquals(
                List.of("prompt", "steps", "width", "eta", "seed"),
                List.copyOf(r.rejected().keySet()));
        assertEquals("abc", r.rejected().get("steps").value());
    }

    @Test
    void conflictingAliasIsRejected() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", "x");
        m.put("steps", 20);
        m.put("num_inference_steps", 30);
        PromptRow r = PromptRow.fromColumns(0, null, m);
        assertNull(r.parameters().steps());
        assertTrue(r.rejected().get("steps").rule().contains("twice"));
    }

    @Test
    void passthroughNamesNeverShadowOutputColumns() {
        assertEquals("label", Columns.passthroughOutputName("label"));
        assertEquals("input_status", Columns.passthroughOutputName("status"));
        assertEquals("input_Image_Id", Columns.passthroughOutputName("Image_Id"));
    }

    @Test
    void outputColumnsHaveUniqueNamesAndResultRowCoversThem() {
        assertEquals(
                Columns.OUTPUT.size(),
                Columns.OUTPUT.stream().map(Column::name).distinct().count());
        PromptRow row = PromptRow.ofPrompt(5, "p");
        ResultRow rr = ResultRow.invalid(row, "steps 0: must be between 1 and 1000", "m", null);
        assertEquals(Columns.OUTPUT.size(), rr.values().size());
        assertEquals("invalid", rr.value(Columns.STATUS));
        assertEquals(5L, rr.value(Columns.SOURCE_ROW));
    }
}
