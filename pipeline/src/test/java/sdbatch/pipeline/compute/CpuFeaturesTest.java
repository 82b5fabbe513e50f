package sdbatch.pipeline.compute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class CpuFeaturesTest {
    private static List<String> cpuinfo(String vendor, String model, String flags) {
        return List.of(
                "processor\t: 0",
                "vendor_id\t: " + vendor,
                "model name\t: " + model,
                "flags\t\t: " + flags,
                "",
                "processor\t: 1",
                "vendor_id\t: Other",
                "flags\t\t: sse2");
    }

    @Test
    void classifiesTheBfloat16KernelFamilies() {
        CpuFeatures zen5 =
                CpuFeatures.parse(
                        cpuinfo(
                                "AuthenticAMD",
                                "AMD EPYC",
                                "fpu avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16"));
        assertEquals("AuthenticAMD", zen5.vendor());
        assertTrue(zen5.onednnBf16());
        assertFalse(zen5.amxBf16());
        assertEquals("avx512_bf16", zen5.bf16Kernels());
        assertTrue(zen5.describe().contains("avx512_bf16+"), zen5.describe());
        assertTrue(zen5.describe().contains("amx_bf16-"), zen5.describe());

        CpuFeatures spr =
                CpuFeatures.parse(
                        cpuinfo(
                                "GenuineIntel",
                                "Xeon",
                                "avx2 avx512f avx512dq avx512bw avx512vl avx512_bf16 amx_bf16"
                                        + " amx_tile"));
        assertEquals("amx", spr.bf16Kernels());

        CpuFeatures skylake =
                CpuFeatures.parse(
                        cpuinfo("GenuineIntel", "Xeon", "avx2 avx512f avx512dq avx512bw avx512vl"));
        assertEquals("avx512 (bf16 emulated)", skylake.bf16Kernels());

        CpuFeatures avx2 = CpuFeatures.parse(cpuinfo("AuthenticAMD", "Zen 2", "avx2 fma"));
        assertFalse(avx2.onednnBf16());
        assertEquals("none (libtorch's own kernels)", avx2.bf16Kernels());
    }

    @Test
    void anUnreadableFileGivesUnknownFlags() {
        CpuFeatures none = CpuFeatures.read(Path.of("/nonexistent/cpuinfo"));
        assertFalse(none.known());
        assertEquals("unknown", none.bf16Kernels());
    }
}
