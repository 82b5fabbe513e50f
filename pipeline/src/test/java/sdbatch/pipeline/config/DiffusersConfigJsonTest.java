package sdbatch.pipeline.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.weights.ModelLoadException;

/** The typed reads every diffusers config record is built with: defaults, values and refusals. */
class DiffusersConfigJsonTest {

    private static DiffusersConfigJson json(String text) {
        return DiffusersConfigJson.parse("c.json", text);
    }

    private static String refusal(Runnable read) {
        return assertThrows(ModelLoadException.class, read::run).getMessage();
    }

    @Test
    void absentAndNullKeysTakeTheDefault() {
        DiffusersConfigJson j = json("{\"b\": null, \"s\": null, \"d\": null, \"l\": null}");
        assertEquals(true, j.getBool("b", true));
        assertEquals("x", j.getString("s", "x"));
        assertNull(j.getDoubleOrNull("d", null));
        assertEquals(2.5, j.getDouble("absent", 2.5));
        assertEquals(List.of("a"), j.getStrings("l", List.of("a")));
        assertEquals(List.of(1), j.getInts("absent", List.of(1)));
    }

    @Test
    void valuesOfTheRightKindAreRead() {
        DiffusersConfigJson j =
                json(
                        "{\"b\": false, \"s\": \"v\", \"d\": 0.5, \"ss\": [\"p\", \"q\"],"
                                + " \"is\": [3, 4.0]}");
        assertEquals(false, j.getBool("b", true));
        assertEquals("v", j.getString("s", null));
        assertEquals(0.5, j.getDoubleOrNull("d", null));
        assertEquals(List.of("p", "q"), j.getStrings("ss", null));
        assertEquals(List.of(3, 4), j.getInts("is", null));
    }

    @Test
    void aValueOfTheWrongKindIsRefusedNamingFileKeyAndValue() {
        DiffusersConfigJson j =
                json(
                        "{\"b\": \"yes\", \"s\": 3, \"d\": \"x\", \"ss\": [\"p\", 1],"
                                + " \"sn\": \"p\", \"is\": [1, \"2\"], \"in\": 3}");
        assertEquals(
                "c.json: \"b\" = \"yes\" is not true or false",
                refusal(() -> j.getBool("b", true)));
        assertEquals("c.json: \"s\" = 3 is not a string", refusal(() -> j.getString("s", null)));
        assertEquals(
                "c.json: \"d\" = \"x\" is not a number",
                refusal(() -> j.getDoubleOrNull("d", null)));
        assertEquals(
                "c.json: \"ss\" = [\"p\",1] is not a list of strings",
                refusal(() -> j.getStrings("ss", null)));
        assertEquals(
                "c.json: \"sn\" = \"p\" is not a list of strings",
                refusal(() -> j.getStrings("sn", null)));
        assertEquals(
                "c.json: \"is\" = \"2\" is not an integer", refusal(() -> j.getInts("is", null)));
        assertEquals(
                "c.json: \"in\" = 3 is not a list of integers",
                refusal(() -> j.getInts("in", null)));
    }

    @Test
    void keysNeverReadAreTheExtra() {
        DiffusersConfigJson j = json("{\"read\": 1, \"_class_name\": \"X\", \"new_key\": true}");
        j.ignore("_class_name");
        j.getInt("read", 0);
        assertEquals(List.of("new_key"), List.copyOf(j.extra().keySet()));
    }

    @Test
    void aModelConfigKnowsConfigMixinMetadataButKeepsOtherKeysAsExtra() {
        List<String> extra =
                ConfigReader.diffusersModel(
                                DiffusersConfigJsonTest.class,
                                j -> {
                                    j.getInt("read", 0);
                                    return List.copyOf(j.extra().keySet());
                                })
                        .parse(
                                "c.json",
                                "{\"_class_name\": \"AutoencoderKL\", \"_diffusers_version\":"
                                        + " \"0.30.0\", \"_name_or_path\": \"x\", \"_other\": 1,"
                                        + " \"read\": 1, \"new_key\": true}");
        assertEquals(List.of("_other", "new_key"), extra);
    }

    @Test
    void aRefusedConfigValueNamesTheComponentKeyValueAndRule() {
        assertEquals(
                "vae config: \"layers_per_block\" = 0 must be positive",
                refusal(
                        () ->
                                DiffusersConfigJson.check(
                                        "vae", false, "layers_per_block", 0, "must be positive")));
    }
}
