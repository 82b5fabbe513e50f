package sdbatch.jobs.cli;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import sdbatch.schemas.sweep.SweepSpec;

/**
 * What each flag's value may be: one parser per flag, each throwing a {@link StartupException}
 * (exit 2) that names the flag, the rule and the value given.
 */
final class FlagValues {
    private FlagValues() {}

    /** Reads one flag's value. */
    interface Parser<T> {
        T parse(String value);
    }

    /** {@code --max-sequence-length}: 1..512, diffusers' bounds for T5. */
    static int parseMaxSequenceLength(String v) {
        int n = positiveInt(Flags.MAX_SEQUENCE_LENGTH, v);
        if (n > 512) {
            throw new StartupException(
                    Flags.MAX_SEQUENCE_LENGTH
                            + " must be in 1..512 (diffusers' limit for T5), got "
                            + n);
        }
        return n;
    }

    /** {@code name}'s value in {@code flags} through {@code parser}; null when not given. */
    static <T> T optional(Map<String, String> flags, String name, Parser<T> parser) {
        String v = flags.get(name);
        return v == null ? null : parser.parse(v);
    }

    /** As {@link #optional}, with {@code defaultValue} when not given. */
    static <T> T orDefault(
            Map<String, String> flags, String name, Parser<T> parser, T defaultValue) {
        T v = optional(flags, name, parser);
        return v == null ? defaultValue : v;
    }

    /** A value of {@code flag} that must be an integer of at least 1. */
    static int positiveInt(String flag, String value) {
        try {
            int v = Integer.parseInt(value.trim());
            if (v >= 1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new StartupException(flag + " must be a positive integer, got '" + value + "'");
    }

    /** {@code --max-failures}: -1 (no limit) or a count. */
    static long parseMaxFailures(String value) {
        try {
            long v = Long.parseLong(value.trim());
            if (v >= -1) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new StartupException(
                Flags.MAX_FAILURES + " must be -1 (no limit) or a count >= 0, got '" + value + "'");
    }

    /**
     * The sweep flags through schemas' {@link SweepSpec#parse} (one grammar for the CLI and the
     * library); its message names the flag and the item.
     */
    static SweepSpec sweep(Map<String, String> flags) {
        Integer imagesPerPrompt =
                optional(
                        flags,
                        Flags.IMAGES_PER_PROMPT,
                        v -> positiveInt(Flags.IMAGES_PER_PROMPT, v));
        try {
            return SweepSpec.parse(
                    flags.get(Flags.SEEDS),
                    imagesPerPrompt,
                    flags.get(Flags.GUIDANCE),
                    flags.get(Flags.STEPS),
                    flags.get(Flags.SCHEDULERS),
                    flags.get(Flags.STRENGTHS),
                    flags.get(Flags.GUIDANCE_RESCALE));
        } catch (IllegalArgumentException e) {
            throw new StartupException(e.getMessage(), e);
        }
    }

    /** A pixel count, or {@code WxH}. */
    static long parseMaxInputPixels(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        try {
            int x = v.indexOf('x');
            long pixels =
                    x > 0
                            ? Math.multiplyExact(
                                    Long.parseLong(v.substring(0, x)),
                                    Long.parseLong(v.substring(x + 1)))
                            : Long.parseLong(v);
            if (pixels >= 1) {
                return pixels;
            }
        } catch (NumberFormatException | ArithmeticException e) {
            // reported below
        }
        throw new StartupException(
                Flags.MAX_INPUT_PIXELS
                        + " must be a positive pixel count or WxH (e.g. 4096x4096), got '"
                        + value
                        + "'");
    }

    /** {@code make-tiny-model --seed}: any long. */
    static long parseSeed(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new StartupException(Flags.SEED + " must be an integer, got '" + value + "'");
        }
    }

    /** {@code make-tiny-model --variant}, lower case with '-' for '_'. */
    static String parseVariant(String value) {
        String v = value.toLowerCase(Locale.ROOT).replace('_', '-');
        if (!List.of(
                        "sd1",
                        "sd2v",
                        "sd15-shaped",
                        "sdxl",
                        "sdxl-shaped",
                        "sd3",
                        "sd3-medium-shaped")
                .contains(v)) {
            throw new StartupException(
                    Flags.VARIANT
                            + " must be sd1, sd2v, sd15-shaped, sdxl, sdxl-shaped, sd3 or"
                            + " sd3-medium-shaped, got '"
                            + value
                            + "'");
        }
        return v;
    }

    /** {@code --dtype}, lower case. */
    static String parseDtype(String value) {
        String v = value.toLowerCase(Locale.ROOT);
        // bf16 keeps float32 arrays (DJL 0.36 aborts the JVM on bfloat16 ones) and computes
        // convolutions, linear layers and self-attention in bfloat16 inside libtorch (Bf16Compute).
        if (!List.of("fp32", "fp16", "bf16").contains(v)) {
            throw new StartupException(
                    Flags.DTYPE + " must be fp32, fp16 or bf16, got '" + value + "'");
        }
        return v;
    }
}
