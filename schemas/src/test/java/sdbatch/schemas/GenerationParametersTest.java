package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link GenerationParameters}: every input column is a component, read and built by name. */
class GenerationParametersTest {
    @Test
    void everyInputColumnRoundTripsThroughItsComponent() {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Column c : Columns.INPUT) {
            values.put(
                    c.name(),
                    switch (c.type()) {
                        case STRING -> "text of " + c.name();
                        case INT -> c.name().length();
                        case LONG -> 1000L + c.name().length();
                        case DOUBLE -> 0.5 + c.name().length();
                        case BOOLEAN -> c.name().length() % 2 == 0;
                        case TIMESTAMP -> throw new AssertionError("input column " + c.name());
                    });
        }
        GenerationParameters p = GenerationParameters.fromValues(values);
        for (String column : GenerationParameters.COLUMNS) {
            assertEquals(values.get(column), p.value(column), column);
        }
        assertEquals(Columns.INPUT.size(), GenerationParameters.COLUMNS.size());
    }

    @Test
    void absentColumnsAreNullAndOtherNamesAreRefused() {
        GenerationParameters p = GenerationParameters.fromValues(Map.of(Columns.PROMPT, "p"));
        assertEquals("p", p.prompt());
        assertNull(p.steps());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> p.value(Columns.STATUS));
        assertTrue(e.getMessage().contains("status"), e.getMessage());
    }
}
