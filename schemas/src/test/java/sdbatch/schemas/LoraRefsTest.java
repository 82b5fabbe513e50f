package sdbatch.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class LoraRefsTest {
    @Test
    void weightIsTheTextAfterTheLastColonWhenItIsANumber() {
        assertEquals(
                List.of(
                        new LoraRefs.Ref("s3a://b/x.safetensors", 1.0),
                        new LoraRefs.Ref("hdfs://nn:8020/l/y.safetensors", -0.5),
                        new LoraRefs.Ref("/a/z.safetensors", 0.8)),
                LoraRefs.parse(
                        "s3a://b/x.safetensors; hdfs://nn:8020/l/y.safetensors:-0.5;;"
                                + "/a/z.safetensors:.8"));
    }

    @Test
    void emptyLocationIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> LoraRefs.parse(":0.5"));
    }

    @Test
    void tagsAreTakenOutOfThePromptAsA1111Does() {
        LoraRefs.Extracted e = LoraRefs.extractTags("a cat <lora:style:0.7>, <lora:other> red");
        assertEquals("a cat ,  red", e.prompt());
        assertEquals(
                List.of(new LoraRefs.Ref("style", 0.7), new LoraRefs.Ref("other", 1.0)), e.tags());
        assertThrows(IllegalArgumentException.class, () -> LoraRefs.extractTags("<lora:a:1:0.5>"));
    }
}
