package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SchedulerConfigJsonTest {
    /**
     * Issue 15 item 2: the plain decimal of 1e999999999 is a billion characters; such numbers are
     * refused when parsed, quickly, naming where they are.
     */
    @Test
    void numbersBeyondADoublesRangeAreRefusedBeforeTheyAreWrittenOut() {
        String[][] cases = {
            {"{\"beta_end\": 1e999999999}", "beta_end"},
            {"{\"beta_end\": -1e999999999}", "beta_end"},
            {"{\"sigma_min\": 1e-999999999}", "sigma_min"},
            {"{\"a\": {\"b\": [1, 2e400]}}", "a.b[1]"},
            {"{\"x\": 1e99999999999}", "x"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e =
                    assertTimeoutPreemptively(
                            Duration.ofSeconds(10),
                            () ->
                                    assertThrows(
                                            IllegalArgumentException.class,
                                            () -> SchedulerConfigJson.canonical(c[0])),
                            c[0]);
            assertTrue(e.getMessage().contains(" at " + c[1] + ","), e.getMessage());
            assertTrue(e.getMessage().contains("outside the range of a double"), e.getMessage());
        }
    }

    @Test
    void numbersWithinADoublesRangeKeepTheirCanonicalForm() {
        assertEquals(
                "{\"a\":0.0001,\"b\":1,\"c\":0,\"d\":1" + "0".repeat(300) + "}",
                SchedulerConfigJson.canonical(
                        "{\"b\": 1.0, \"a\": 1e-4, \"c\": 0e999999, \"d\": 1e300}"));
        assertEquals(
                "{\"tiny\":0." + "0".repeat(322) + "5}",
                SchedulerConfigJson.canonical("{\"tiny\": 5e-323}"));
    }

    @Test
    void aValueParsedElsewhereIsCheckedToo() {
        com.google.gson.JsonObject o =
                com.google.gson.JsonParser.parseString("{\"beta_end\": 1e999999999}")
                        .getAsJsonObject();
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> SchedulerConfigJson.canonical(o));
        assertTrue(e.getMessage().contains(" at $.beta_end,"), e.getMessage());
    }
}
