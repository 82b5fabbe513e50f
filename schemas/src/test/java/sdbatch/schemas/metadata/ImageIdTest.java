package sdbatch.schemas.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import sdbatch.schemas.GenerationRequest;

class ImageIdTest {

    static GenerationRequest base() {
        return new GenerationRequest(
                "a cat", "", 42, 20, 7.5, "euler_a", "{}", 512, 512, 0.0, 0, 0, "row 0", 0,
                Map.of(), null, null, null);
    }

    static GenerationRequest with(
            GenerationRequest r,
            String prompt,
            String neg,
            long seed,
            int steps,
            double g,
            String sch,
            String cfg,
            int w,
            int h,
            double eta,
            int clip) {
        return new GenerationRequest(
                prompt,
                neg,
                seed,
                steps,
                g,
                sch,
                cfg,
                w,
                h,
                eta,
                clip,
                r.sourceRow(),
                r.sourceId(),
                r.expansionIndex(),
                r.passthrough(),
                null,
                null,
                null);
    }

    @Test
    void stableAndWellFormed() {
        String a = ImageId.of("tiny-sd1@abc", base());
        assertEquals(a, ImageId.of("tiny-sd1@abc", base()));
        assertTrue(a.matches("[0-9a-f]{32}"), a);
        assertEquals("images/" + a.substring(0, 2) + "/" + a + ".png", ImageId.path(a));
        assertThrows(IllegalArgumentException.class, () -> ImageId.path("../x"));
    }

    @Test
    void stableAcrossJvms() throws Exception {
        // A fresh JVM (other default charset and locale) must compute the same id.
        String java =
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        Process p =
                new ProcessBuilder(
                                java,
                                "-Dfile.encoding=ISO-8859-1",
                                "-Duser.language=tr",
                                "-cp",
                                System.getProperty("java.class.path"),
                                ImageIdTest.class.getName() + "$Main")
                        .redirectErrorStream(true)
                        .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.waitFor(), out);
        assertEquals(ImageId.of("m\u00e9", unicodeRequest()), out);
    }

    static GenerationRequest unicodeRequest() {
        return new GenerationRequest(
                "\u05e9\u05dc\u05d5\u05dd \ud83d\ude00 caf\u00e9",
                "I",
                7,
                30,
                3.0,
                "Euler a",
                "{\"b\": 2, \"a\": 1}",
                64,
                64,
                0.5,
                1,
                0,
                "row 0",
                0,
                Map.of(),
                null,
                null,
                null);
    }

    /** Entry point of the second JVM in {@link #stableAcrossJvms}. */
    public static final class Main {
        public static void main(String[] args) {
            System.out.println(ImageId.of("m\u00e9", unicodeRequest()));
        }
    }

    @Test
    void sensitiveToEveryParameterAndNotToRowPosition() {
        GenerationRequest b = base();
        List<UnaryOperator<GenerationRequest>> changes =
                List.of(
                        r -> with(r, "a cat!", "", 42, 20, 7.5, "euler_a", "{}", 512, 512, 0, 0),
                        r -> with(r, "a cat", "dog", 42, 20, 7.5, "euler_a", "{}", 512, 512, 0, 0),
                        r -> with(r, "a cat", "", 43, 20, 7.5, "euler_a", "{}", 512, 512, 0, 0),
                        r -> with(r, "a cat", "", 42, 21, 7.5, "euler_a", "{}", 512, 512, 0, 0),
                        r -> with(r, "a cat", "", 42, 20, 7.0, "euler_a", "{}", 512, 512, 0, 0),
                        r -> with(r, "a cat", "", 42, 20, 7.5, "euler", "{}", 512, 512, 0, 0),
                        r ->
                                with(
                                        r,
                                        "a cat",
                                        "",
                                        42,
                                        20,
                                        7.5,
                                        "euler_a",
                                        "{\"x\":1}",
                                        512,
                                        512,
                                        0,
                                        0),
                        r -> with(r, "a cat", "", 42, 20, 7.5, "euler_a", "{}", 520, 512, 0, 0),
                        r -> with(r, "a cat", "", 42, 20, 7.5, "euler_a", "{}", 512, 520, 0, 0),
                        r -> with(r, "a cat", "", 42, 20, 7.5, "euler_a", "{}", 512, 512, 0.1, 0),
                        r -> with(r, "a cat", "", 42, 20, 7.5, "euler_a", "{}", 512, 512, 0, 1),
                        // field boundaries: moving text between prompt and negative prompt
                        r -> with(r, "a ca", "t", 42, 20, 7.5, "euler_a", "{}", 512, 512, 0, 0));
        Set<String> ids = new HashSet<>();
        ids.add(ImageId.of("m", b));
        for (UnaryOperator<GenerationRequest> c : changes) {
            assertTrue(ids.add(ImageId.of("m", c.apply(b))), "a change left the id unchanged");
        }
        assertNotEquals(ImageId.of("m", b), ImageId.of("m2", b));
        // Same parameters from another row, position or spelling: same id.
        GenerationRequest moved =
                new GenerationRequest(
                        "a cat",
                        "",
                        42,
                        20,
                        7.5,
                        "Euler a",
                        "{ }",
                        512,
                        512,
                        -0.0,
                        0,
                        99,
                        "other.csv:3",
                        5,
                        Map.of("label", "y"),
                        null,
                        null,
                        null);
        assertEquals(ImageId.of("m", b), ImageId.of("m", moved));
    }
}
