package sdbatch.schemas.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.invoke.MethodHandles;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordCopierTest {
    /** A record with a primitive, a boxed, a generic and a normalized component, and a check. */
    record Sample(long seed, Integer steps, String name, List<String> tags) {
        Sample {
            if (steps != null && steps < 1) {
                throw new IllegalArgumentException("steps " + steps + " must be >= 1");
            }
            tags = tags == null ? List.of() : List.copyOf(tags);
        }
    }

    private static final class SampleFields {
        long seed;
        Integer steps;
        String name;
        List<String> tags;
    }

    private static final RecordCopier<Sample, SampleFields> SAMPLE =
            RecordCopier.of(MethodHandles.lookup(), Sample.class, SampleFields.class);

    @Test
    void aCopyChangesWhatTheChangeSetsAndKeepsTheRest() {
        Sample s = new Sample(42L, 3, "a", List.of("x"));
        Sample c = SAMPLE.copy(s, f -> f.steps = 7);
        assertEquals(new Sample(42L, 7, "a", List.of("x")), c);
        assertEquals(new Sample(42L, 3, "a", List.of("x")), s, "the original is untouched");
        assertEquals(
                new Sample(-1L, null, null, List.of("x")),
                SAMPLE.copy(
                        s,
                        f -> {
                            f.seed = -1L;
                            f.steps = null;
                            f.name = null;
                        }));
    }

    @Test
    void aCopyWithoutChangeEqualsTheRecordButIsANewOne() {
        Sample s = new Sample(1L, null, "b", List.of());
        Sample c = SAMPLE.copy(s, f -> {});
        assertEquals(s, c);
        assertNotSame(s, c);
    }

    @Test
    void theCanonicalConstructorChecksEveryCopyAndItsExceptionPassesUnwrapped() {
        Sample s = new Sample(1L, 2, "c", null);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class, () -> SAMPLE.copy(s, f -> f.steps = 0));
        assertEquals("steps 0 must be >= 1", e.getMessage());
    }

    @Test
    void theCanonicalConstructorNormalizesEveryCopy() {
        List<String> mutable = new ArrayList<>(List.of("p"));
        Sample c = SAMPLE.copy(new Sample(1L, null, null, null), f -> f.tags = mutable);
        mutable.add("q");
        assertEquals(List.of("p"), c.tags());
        assertThrows(UnsupportedOperationException.class, () -> c.tags().add("r"));
        assertEquals(List.of(), SAMPLE.copy(c, f -> f.tags = null).tags());
    }

    @Test
    void anExceptionOfTheChangePassesUnwrapped() {
        IllegalStateException thrown = new IllegalStateException("mine");
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () ->
                                SAMPLE.copy(
                                        new Sample(1L, null, null, null),
                                        f -> {
                                            throw thrown;
                                        }));
        assertEquals(thrown, e);
    }

    private static final class MissingField {
        long seed;
        Integer steps;
        String name;
    }

    private static final class ExtraField {
        long seed;
        Integer steps;
        String name;
        List<String> tags;
        String note;
    }

    private static final class OtherType {
        int seed;
        Integer steps;
        String name;
        List<String> tags;
    }

    private static final class OtherTypeArgument {
        long seed;
        Integer steps;
        String name;
        List<Integer> tags;
    }

    private static final class FinalField {
        long seed;
        Integer steps;
        final String name = null;
        List<String> tags;
    }

    private final class InnerMirror {
        long seed;
        Integer steps;
        String name;
        List<String> tags;
    }

    private static final class StaticFieldsAreNotMirrored {
        static int copies;
        long seed;
        Integer steps;
        String name;
        List<String> tags;
    }

    @Test
    void aMirrorMissingAComponentIsRefusedByName() {
        assertRefused(MissingField.class, "component tags (java.util.List<java.lang.String>)");
    }

    @Test
    void aMirrorWithAFieldOfNoComponentIsRefusedByName() {
        assertRefused(ExtraField.class, "field note is no component");
    }

    @Test
    void aMirrorFieldOfAnotherTypeIsRefused() {
        assertRefused(OtherType.class, "field seed is int, the component long");
        assertRefused(
                OtherTypeArgument.class,
                "field tags is java.util.List<java.lang.Integer>, the component"
                        + " java.util.List<java.lang.String>");
    }

    @Test
    void aFinalMirrorFieldIsRefused() {
        assertRefused(FinalField.class, "field name is final");
    }

    @Test
    void anInnerMirrorClassIsRefused() {
        assertRefused(InnerMirror.class, "inner class");
    }

    @Test
    void staticFieldsOfTheMirrorAreLeftOut() {
        RecordCopier<Sample, StaticFieldsAreNotMirrored> copier =
                RecordCopier.of(
                        MethodHandles.lookup(), Sample.class, StaticFieldsAreNotMirrored.class);
        assertEquals(
                new Sample(1L, null, "d", List.of()),
                copier.copy(new Sample(1L, null, null, null), f -> f.name = "d"));
    }

    @Test
    void aLookupWithoutAccessToThePrivateMirrorIsRefused() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                RecordCopier.of(
                                        MethodHandles.publicLookup(),
                                        Sample.class,
                                        SampleFields.class));
        assertTrue(e.getMessage().contains("pass MethodHandles.lookup()"), e.getMessage());
    }

    private static void assertRefused(Class<?> mirror, String expectedPart) {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> RecordCopier.of(MethodHandles.lookup(), Sample.class, mirror));
        assertTrue(e.getMessage().contains("does not mirror record"), e.getMessage());
        assertTrue(e.getMessage().contains(expectedPart), e.getMessage());
    }
}
