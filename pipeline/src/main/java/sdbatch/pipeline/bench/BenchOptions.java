package sdbatch.pipeline.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The command line of {@link Bench}: which models, latent sizes, batch sizes and dtype to measure,
 * how many runs, and where the report goes. Parsed once; a bad flag or value is an {@link
 * IllegalArgumentException} naming it.
 *
 * @param json print only the JSON report on stdout (progress goes to stderr)
 * @param quick fewer runs and images, small defaults: a sanity run in about a minute
 * @param out where the JSON report is written
 * @param models {@code tiny} (TinyModels SD1 written to a temp folder), {@code sd15} (SD 1.5-shaped
 *     UNet with random weights, built in memory), {@code sdxl} (SDXL 1.0 base's UNet shape, 2.6 B
 *     parameters, random weights, built in memory), {@code sd3} (SD3 medium's transformer, 2.0 B
 *     parameters, random weights, built in memory; 333 prompt tokens), or a path to a diffusers
 *     model folder
 * @param latents latent side lengths (square)
 * @param batches UNet batch sizes (2 = one image with classifier-free guidance)
 * @param dtype {@code fp32}, {@code fp16}, or {@code bf16} (float32 weights and arrays, bfloat16
 *     arithmetic for convolutions, linear layers and self-attention inside libtorch: {@code
 *     Bf16Compute})
 * @param threads libtorch intra-op threads, or 0 for the engine's default
 * @param ompWait {@code passive}, {@code active} or null (leave OMP_WAIT_POLICY as inherited)
 * @param runs timed UNet forwards per case (after one warm-up)
 * @param images images for the native-memory check (at least 10)
 * @param steps denoising steps of the time-split and memory images
 * @param ablation also time each model's UNet at the profiled batch with this round's changes added
 *     one at a time (convolution path, attention chunking, fused attention), interleaved
 */
public record BenchOptions(
        boolean json,
        boolean quick,
        Path out,
        List<String> models,
        List<Integer> latents,
        List<Integer> batches,
        String dtype,
        int threads,
        String ompWait,
        int runs,
        int images,
        int steps,
        boolean ablation) {

    /** What {@code --help} prints. */
    public static final String USAGE =
            String.join(
                    "\n",
                    "usage: sdbatch bench [--json] [--quick] [--out bench.json]",
                    "                     [--models tiny,sd15,sdxl,sd3,<model dir>] [--latents 32,64]",
                    "                     [--batches 1,2,4] [--dtype fp32|fp16|bf16] [--threads N]",
                    "                     [--omp-wait passive|active] [--runs N] [--images N]"
                            + " [--steps N] [--ablation]",
                    "defaults: --models tiny,sd15 --latents 32,64 --batches 1,2,4 --runs 3"
                            + " --images 100 --steps 4",
                    "--quick:  --models tiny,sd15 --latents 32 --batches 1,2 --runs 2 --images 10"
                            + " --steps 2",
                    "bf16: float32 weights and arrays, bfloat16 arithmetic for convolutions,"
                            + " linear layers and self-attention inside libtorch (DJL 0.36 aborts"
                            + " the JVM on bfloat16 arrays)");

    public BenchOptions {
        models = List.copyOf(models);
        latents = List.copyOf(latents);
        batches = List.copyOf(batches);
        if (models.isEmpty() || latents.isEmpty() || batches.isEmpty()) {
            throw new IllegalArgumentException(
                    "--models, --latents and --batches must not be empty");
        }
        for (int l : latents) {
            if (l < 8 || l % 8 != 0) {
                throw new IllegalArgumentException(
                        "--latents " + l + " must be a multiple of 8 and >= 8");
            }
        }
        for (int b : batches) {
            if (b < 1) {
                throw new IllegalArgumentException("--batches " + b + " must be >= 1");
            }
        }
        if (!dtype.equals("fp32") && !dtype.equals("fp16") && !dtype.equals("bf16")) {
            throw new IllegalArgumentException("--dtype " + dtype + " must be fp32, fp16 or bf16");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("--threads " + threads + " must be >= 0");
        }
        if (ompWait != null && !ompWait.equals("passive") && !ompWait.equals("active")) {
            throw new IllegalArgumentException(
                    "--omp-wait " + ompWait + " must be passive or active");
        }
        if (runs < 1 || images < 10 || steps < 1) {
            throw new IllegalArgumentException(
                    "--runs (>= 1), --images (>= 10), --steps (>= 1): got "
                            + runs
                            + ", "
                            + images
                            + ", "
                            + steps);
        }
    }

    /**
     * Parses the arguments; {@code --quick} sets the quick defaults and later flags override them.
     *
     * @return null for {@code --help}
     */
    public static BenchOptions parse(String[] args) {
        boolean quick = false;
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                return null;
            }
            quick |= a.equals("--quick");
        }
        boolean json = false;
        Path out = Path.of("bench.json");
        List<String> models = List.of("tiny", "sd15");
        List<Integer> latents = quick ? List.of(32) : List.of(32, 64);
        List<Integer> batches = quick ? List.of(1, 2) : List.of(1, 2, 4);
        String dtype = "fp32";
        int threads = 0;
        String ompWait = null;
        int runs = quick ? 2 : 3;
        int images = quick ? 10 : 100;
        int steps = quick ? 2 : 4;
        boolean ablation = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--quick" -> {}
                case "--json" -> json = true;
                case "--out" -> out = Path.of(value(args, ++i, a));
                case "--models" -> models = strings(value(args, ++i, a));
                case "--latents" -> latents = ints(value(args, ++i, a), a);
                case "--batches" -> batches = ints(value(args, ++i, a), a);
                case "--dtype" -> dtype = value(args, ++i, a).toLowerCase(Locale.ROOT);
                case "--threads" -> threads = integer(value(args, ++i, a), a);
                case "--omp-wait" -> ompWait = value(args, ++i, a).toLowerCase(Locale.ROOT);
                case "--runs" -> runs = integer(value(args, ++i, a), a);
                case "--images" -> images = integer(value(args, ++i, a), a);
                case "--steps" -> steps = integer(value(args, ++i, a), a);
                case "--ablation" -> ablation = true;
                default ->
                        throw new IllegalArgumentException(
                                "unknown argument '" + a + "'\n" + USAGE);
            }
        }
        return new BenchOptions(
                json, quick, out, models, latents, batches, dtype, threads, ompWait, runs, images,
                steps, ablation);
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    private static List<String> strings(String csv) {
        List<String> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            if (!s.isBlank()) {
                out.add(s.trim());
            }
        }
        return out;
    }

    private static List<Integer> ints(String csv, String flag) {
        List<Integer> out = new ArrayList<>();
        for (String s : strings(csv)) {
            out.add(integer(s, flag));
        }
        return out;
    }

    private static int integer(String s, String flag) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " '" + s + "' is not an integer", e);
        }
    }
}
