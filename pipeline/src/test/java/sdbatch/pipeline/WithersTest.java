package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.image.RgbImage;
import sdbatch.pipeline.lora.LoraSpec;

/** Every wither of the copy-with records sets its own components and keeps all the others. */
class WithersTest {
    @Test
    void imageRequestWithers() {
        ImageRequest base = ImageRequest.of("a prompt", 42L);
        RgbImage picture = new RgbImage(8, 8, new byte[8 * 8 * 3]);
        List<LoraSpec> loras = List.of(LoraSpec.of(Path.of("/l.safetensors"), 0.5));
        MicroConditioning micro = new MicroConditioning(1024, 1024, 0, 0, 1024, 1024);
        assertOnly(base, base.withNegativePrompt("n"), "negativePrompt", "n");
        assertOnly(base, base.withSteps(3), "steps", 3);
        assertOnly(base, base.withGuidanceScale(5.0), "guidanceScale", 5.0);
        assertOnly(
                base,
                base.withScheduler("euler", "{}"),
                "scheduler",
                "euler",
                "schedulerConfig",
                "{}");
        assertOnly(base, base.withSize(64, 32), "width", 64, "height", 32);
        assertOnly(base, base.withEta(0.5), "eta", 0.5);
        assertOnly(base, base.withClipSkip(2), "clipSkip", 2);
        assertOnly(base, base.withInitImage(picture), "initImage", picture);
        assertOnly(base, base.withStrength(0.6), "strength", 0.6);
        assertOnly(base, base.withMaskImage(picture), "maskImage", picture);
        assertOnly(base, base.withPasteBack(true), "pasteBack", true);
        assertOnly(base, base.withLoras(loras), "loras", loras);
        assertOnly(base, base.withControlNets(List.of()), "controlNets", List.of());
        assertOnly(base, base.withPrompt2("p2", "n2"), "prompt2", "p2", "negativePrompt2", "n2");
        assertOnly(base, base.withPrompt3("p3", "n3"), "prompt3", "p3", "negativePrompt3", "n3");
        assertOnly(base, base.withMaxSequenceLength(77), "maxSequenceLength", 77);
        assertOnly(base, base.withMicroConditioning(micro), "microConditioning", micro);
        assertOnly(base, base.withGuidanceRescale(0.7), "guidanceRescale", 0.7);
    }

    @Test
    void imageRequestCopiesGoThroughTheCanonicalConstructor() {
        // null LoRAs become the empty list, as `new ImageRequest(...)` makes them
        assertEquals(List.of(), ImageRequest.of("p", 1L).withLoras(null).loras());
    }

    @Test
    void pipelineOptionsWithers() {
        PipelineOptions base = PipelineOptions.defaults();
        ComputeOptions bf16 = ComputeOptions.defaults().withBf16(true);
        PipelineOptions gpu = base.withDevice(Device.gpu(0));
        assertOnly(base, gpu, "device", Device.gpu(0));
        assertOnly(gpu, gpu.withDtype(DataType.FLOAT16), "dtype", DataType.FLOAT16);
        assertOnly(base, base.withMaxBatchSize(2), "maxBatchSize", 2);
        assertOnly(base, base.withMaxPixels(4096L), "maxPixels", 4096L);
        assertOnly(base, base.withEmbeddings(Path.of("/e")), "embeddingsDir", Path.of("/e"));
        assertOnly(base, base.withCompute(bf16), "compute", bf16);
        assertOnly(base, base.withVae(Path.of("/v")), "vaeDir", Path.of("/v"));
        assertOnly(base, base.withoutT5(true), "withoutT5", true);
    }

    @Test
    void computeOptionsWithers() {
        ComputeOptions base = ComputeOptions.defaults();
        assertFlipsOnly("bf16", ComputeOptions::withBf16, ComputeOptions::bf16);
        assertFlipsOnly(
                "bf16Prepack", ComputeOptions::withBf16Prepack, ComputeOptions::bf16Prepack);
        assertFlipsOnly("bf16Fused", ComputeOptions::withBf16Fused, ComputeOptions::bf16Fused);
        assertFlipsOnly(
                "bf16Attention", ComputeOptions::withBf16Attention, ComputeOptions::bf16Attention);
        assertFlipsOnly(
                "fusedAttention",
                ComputeOptions::withFusedAttention,
                ComputeOptions::fusedAttention);
        assertFlipsOnly(
                "fusedGroupNorm",
                ComputeOptions::withFusedGroupNorm,
                ComputeOptions::fusedGroupNorm);
        // the canonical constructor lower-cases it: every copy goes through it
        assertOnly(base, base.withConvLowering("ALWAYS"), "convLowering", "always");
        assertOnly(base, base.withMaxScoreElements(123L), "maxScoreElements", 123L);
        assertOnly(base, base.withStripElements(456L), "stripElements", 456L);
        assertFlipsOnly(
                "releaseFreedHeap",
                ComputeOptions::withReleaseFreedHeap,
                ComputeOptions::releaseFreedHeap);
        assertOnly(base, base.withIntraOpThreads(3), "intraOpThreads", 3);
    }

    /**
     * Asserts that {@code with} gives a copy of the default options whose boolean {@code name},
     * read by {@code get}, is flipped and whose other components are the defaults'.
     */
    private static void assertFlipsOnly(
            String name,
            BiFunction<ComputeOptions, Boolean, ComputeOptions> with,
            Predicate<ComputeOptions> get) {
        ComputeOptions base = ComputeOptions.defaults();
        boolean flipped = !get.test(base);
        assertOnly(base, with.apply(base, flipped), name, flipped);
    }

    /**
     * Asserts that {@code copy}'s components are {@code base}'s except the named ones, which have
     * the values that follow their names.
     */
    private static <R extends Record> void assertOnly(R base, R copy, Object... namesAndValues) {
        Map<String, Object> changed = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            changed.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        for (RecordComponent c : base.getClass().getRecordComponents()) {
            Object expected =
                    changed.containsKey(c.getName()) ? changed.remove(c.getName()) : value(c, base);
            assertEquals(expected, value(c, copy), c.getName());
        }
        assertEquals(Map.of(), changed, "names of no component");
    }

    private static Object value(RecordComponent c, Record r) {
        try {
            return c.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
