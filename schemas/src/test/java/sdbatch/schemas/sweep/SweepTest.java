package sdbatch.schemas.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.PromptRow;
import sdbatch.schemas.validate.RequestDefaults;
import sdbatch.schemas.validate.ValidationResult;

class SweepTest {
    static final RequestDefaults D = RequestDefaults.forModel("pndm", 64, 64, 5);

    static ValidationResult.Valid valid(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prompt", "a cat");
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return new ValidationResult.Valid(PromptRow.fromColumns(7, null, m));
    }

    @Test
    void seedsParse() {
        SeedSet s = SeedSet.parse(" 0-99 , 1234,200-201");
        assertEquals(103, s.size());
        assertEquals(0, s.get(0));
        assertEquals(99, s.get(99));
        assertEquals(1234, s.get(100));
        assertEquals(201, s.get(102));
        assertEquals("0-99,1234,200-201", s.toString());
        assertEquals(1, SeedSet.parse("5").size());
        assertEquals(SeedSet.MAX_SEEDS, SeedSet.parse("0-9999999").size());
    }

    @ParameterizedTest(name = "--seeds {0}")
    @ValueSource(
            strings = {
                "",
                "1,,2",
                "a",
                "5-3",
                "-1",
                "1-",
                "0-10000000",
                "1-2-3",
                "0-5,3",
                "1.5",
                "99999999999999999999",
                "0-9223372036854775807"
            })
    void badSeedsAreErrors(String spec) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> SeedSet.parse(spec));
        assertTrue(e.getMessage().contains("--seeds"), e.getMessage());
    }

    @Test
    void crossProductOverUnfixedColumnsInDocumentedOrder() {
        SweepSpec spec = SweepSpec.parse("1,2", null, "3,7.5", "20,50", "euler_a,DPM++ 2M");
        List<GenerationRequest> all = SweepExpander.expandAll(valid(), spec, D);
        assertEquals(16, all.size());
        assertEquals(16, SweepExpander.count(valid().row(), spec));
        // schedulers outermost, then steps, guidance, seeds innermost
        GenerationRequest r5 = all.get(5); // sch 0, steps 1 (50), g 0 (3), seed 1 (2)
        assertEquals("euler_a", r5.scheduler());
        assertEquals(50, r5.steps());
        assertEquals(3.0, r5.guidanceScale());
        assertEquals(2, r5.seed());
        assertEquals(5, r5.expansionIndex());
        assertEquals("dpmpp_2m", all.get(15).scheduler());
        for (int i = 0; i < all.size(); i++) {
            assertEquals(i, all.get(i).expansionIndex());
            assertEquals(7, all.get(i).sourceRow());
        }
        assertEquals(16, new HashSet<>(all).size());
    }

    @Test
    void rowColumnBeatsFlagBeatsDefault() {
        SweepSpec spec = SweepSpec.parse("1,2,3", null, "3,7.5", "20,50", "euler_a,ddim");
        List<GenerationRequest> all =
                SweepExpander.expandAll(
                        valid("seed", 9L, "steps", 10, "scheduler", "Euler"), spec, D);
        assertEquals(2, all.size()); // only guidance sweeps
        for (GenerationRequest r : all) {
            assertEquals(9, r.seed());
            assertEquals(10, r.steps());
            assertEquals("euler", r.scheduler());
            assertEquals(64, r.width());
        }
        GenerationRequest def = SweepExpander.expandAll(valid(), SweepSpec.NONE, D).get(0);
        assertEquals(50, def.steps());
        assertEquals(7.5, def.guidanceScale());
        assertEquals("pndm", def.scheduler());
        assertEquals("", def.negativePrompt());
        assertEquals("{}", def.schedulerConfig());
        assertEquals(0, def.clipSkip());
    }

    @Test
    void derivedSeedsAreStableDistinctAndIn32Bits() {
        SweepSpec spec = SweepSpec.parse(null, 50, null, null, null);
        List<GenerationRequest> a = SweepExpander.expandAll(valid(), spec, D);
        List<GenerationRequest> b = SweepExpander.expandAll(valid(), spec, D);
        assertEquals(a, b);
        Set<Long> seeds = new HashSet<>();
        for (GenerationRequest r : a) {
            assertTrue(r.seed() >= 0 && r.seed() <= 0xFFFFFFFFL);
            seeds.add(r.seed());
        }
        assertEquals(50, seeds.size());
        // position-independent, text-dependent
        assertEquals(
                SweepExpander.derivedSeed("a cat", "", 3),
                SweepExpander.expandAll(
                                new ValidationResult.Valid(PromptRow.ofPrompt(999, "a cat")),
                                spec,
                                D)
                        .get(3)
                        .seed());
        assertNotEquals(
                SweepExpander.derivedSeed("a cat", "", 0),
                SweepExpander.derivedSeed("a cat", "dog", 0));
        assertNotEquals(
                SweepExpander.derivedSeed("a cat", "", 0),
                SweepExpander.derivedSeed("a cat ", "", 0));
    }

    @Test
    void sweepFlagsAreCheckedWithRowRules() {
        assertThrows(
                IllegalArgumentException.class, () -> SweepSpec.parse("0-3", 2, null, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> SweepSpec.parse(null, null, "1,x", null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> SweepSpec.parse(null, null, null, "20,20", null));
        assertThrows(
                IllegalArgumentException.class, () -> SweepSpec.parse(null, 0, null, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> SweepSpec.parse("0-9999999", null, "1,2", null, null));
        SweepSpec bad = SweepSpec.parse(null, null, "-1,7", "0,20", "euler_a,Euler a,nope");
        List<String> messages =
                bad.validate(D).stream().map(ValidationResult.Problem::message).toList();
        assertEquals(4, messages.size(), messages.toString());
        assertTrue(messages.get(0).startsWith("--steps 0"), messages.toString());
    }

    @Test
    void largeSweepsAreLazy() {
        SweepSpec spec = SweepSpec.parse("0-9999999", null, null, null, null);
        var it = SweepExpander.expand(valid(), spec, D, null);
        long n = 0;
        while (it.hasNext() && n < 5) {
            it.next();
            n++;
        }
        assertEquals(10_000_000L, SweepExpander.count(valid().row(), spec));
    }
}
