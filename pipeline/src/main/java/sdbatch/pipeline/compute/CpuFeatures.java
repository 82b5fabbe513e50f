package sdbatch.pipeline.compute;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The CPU's vendor, model and the instruction-set flags that decide which kernels libtorch's oneDNN
 * runs for bfloat16: AMX tiles (Intel Sapphire Rapids and later), AVX-512-BF16 (Intel Cooper Lake,
 * AMD Zen 4 and later) and AVX-512 without BF16 (bfloat16 emulated with integer shifts), or plain
 * AVX2, where oneDNN has no bfloat16 convolution and libtorch falls back to its own slower kernels.
 *
 * <p>Read from {@code /proc/cpuinfo} (Linux, where Spark executors run); elsewhere the flags are
 * empty and {@link #known()} is false. Why the project cares: the same libtorch build computes
 * bfloat16 convolutions with different kernels on these CPUs, and one of them was wrong (see {@code
 * Bf16SelfCheck}); tests and {@code sdbatch doctor} state which kind of CPU they ran on.
 *
 * @param vendor {@code vendor_id}, e.g. {@code GenuineIntel}, {@code AuthenticAMD}
 * @param model {@code model name}
 * @param flags the lower-case {@code flags} of the first processor
 */
public record CpuFeatures(String vendor, String model, Set<String> flags) {

    private static final Path CPUINFO = Path.of("/proc/cpuinfo");
    private static volatile CpuFeatures current;

    public CpuFeatures {
        flags = Set.copyOf(flags);
    }

    /** This machine's CPU, read once. */
    public static CpuFeatures current() {
        CpuFeatures c = current;
        if (c == null) {
            c = read(CPUINFO);
            current = c;
        }
        return c;
    }

    /** Parses a {@code /proc/cpuinfo} file (the first processor's entries); unknown if absent. */
    public static CpuFeatures read(Path cpuinfo) {
        try {
            return parse(Files.readAllLines(cpuinfo));
        } catch (IOException | RuntimeException e) {
            return new CpuFeatures("unknown", "unknown", Set.of());
        }
    }

    /** Parses the lines of {@code /proc/cpuinfo}: the first processor's entries. */
    public static CpuFeatures parse(List<String> lines) {
        String vendor = "unknown";
        String model = "unknown";
        Set<String> flags = new TreeSet<>();
        boolean haveFlags = false;
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (key.equals("vendor_id") && vendor.equals("unknown")) {
                vendor = value;
            } else if (key.equals("model name") && model.equals("unknown")) {
                model = value;
            } else if (key.equals("flags") && !haveFlags) {
                haveFlags = true;
                flags.addAll(Arrays.asList(value.toLowerCase(Locale.ROOT).split("\\s+")));
            }
        }
        flags.remove("");
        return new CpuFeatures(vendor, model, flags);
    }

    /** Whether the flags could be read. */
    public boolean known() {
        return !flags.isEmpty();
    }

    public boolean has(String flag) {
        return flags.contains(flag);
    }

    public boolean avx2() {
        return has("avx2");
    }

    /** AVX-512 with the BW, VL and DQ subsets: what oneDNN's bfloat16 kernels need at least. */
    public boolean avx512Core() {
        return has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512dq");
    }

    /** Native bfloat16 dot products in AVX-512 ({@code vdpbf16ps}). */
    public boolean avx512Bf16() {
        return has("avx512_bf16");
    }

    /** Intel AMX bfloat16 tiles. */
    public boolean amxBf16() {
        return has("amx_bf16") && has("amx_tile");
    }

    /** AVX-NE-CONVERT (bfloat16 conversions on newer AVX2-only cores). */
    public boolean avxNeConvert() {
        return has("avx_ne_convert");
    }

    /**
     * Whether libtorch's oneDNN can run bfloat16 convolutions and products here, as libtorch
     * decides it ({@code mkldnn_bf16_device_check}: AVX-512 core, or AVX-NE-CONVERT). Without it
     * bfloat16 still computes, on libtorch's own kernels, and prepacked weights are unavailable.
     */
    public boolean onednnBf16() {
        return avx512Core() || avxNeConvert();
    }

    /**
     * The kernel family oneDNN uses for bfloat16 here: {@code amx}, {@code avx512_bf16}, {@code
     * avx512 (bf16 emulated)}, {@code none (libtorch's own kernels)}, or {@code unknown}.
     */
    public String bf16Kernels() {
        if (!known()) {
            return "unknown";
        }
        if (amxBf16()) {
            return "amx";
        }
        if (avx512Core() && avx512Bf16()) {
            return "avx512_bf16";
        }
        if (avx512Core()) {
            return "avx512 (bf16 emulated)";
        }
        if (avxNeConvert()) {
            return "avx_ne_convert";
        }
        return "none (libtorch's own kernels)";
    }

    /** One line: vendor, model, and the flags that matter here. */
    public String describe() {
        StringBuilder s = new StringBuilder(vendor).append(", ").append(model).append(":");
        for (String f :
                List.of(
                        "avx2",
                        "avx512f",
                        "avx512bw",
                        "avx512_bf16",
                        "avx_ne_convert",
                        "amx_tile",
                        "amx_bf16")) {
            s.append(' ').append(f).append(has(f) ? "+" : "-");
        }
        return s.append(" (bf16 kernels: ").append(bf16Kernels()).append(')').toString();
    }
}
