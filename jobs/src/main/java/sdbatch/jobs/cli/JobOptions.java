package sdbatch.jobs.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import sdbatch.jobs.Redaction;
import sdbatch.jobs.pictures.PictureFiles;
import sdbatch.schemas.sweep.SweepSpec;

/**
 * The parsed command line of one {@code sdbatch} command: parsed once on the driver, never
 * serialized to executors (they get small specs derived from it).
 *
 * <p><b>Precedence.</b> A generation parameter comes from, first to last: the row's own column (a
 * non-null {@code seed}, {@code steps}, {@code guidance_scale}, {@code scheduler}, {@code width},
 * {@code height}, …), then the flag ({@code --seeds}/{@code --images-per-prompt}, {@code --steps},
 * {@code --guidance}, {@code --schedulers}, {@code --width}, {@code --height}; a list-valued flag
 * sweeps: the row is expanded over the cross product of the lists of the columns it leaves null),
 * then the model's default (size = UNet {@code sample_size} × the VAE scale factor, scheduler = the
 * model folder's {@code scheduler/scheduler_config.json}, steps, guidance and img2img strength =
 * the defaults of diffusers' pipeline of the model's family: 50, 7.5 and 0.8 for SD 1.x/2.x, 50,
 * 5.0 and 0.3 for SDXL, 28 and 7.0 for SD3). A null field here means "no flag given".
 *
 * @param command the subcommand ({@code generate}, {@code validate}, {@code tokenize}, {@code
 *     make-tiny-model})
 * @param help whether {@code --help} was given (then nothing else is checked)
 * @param model model folder or URI; null: the built-in tiny random-weight model
 * @param input prompt table path or URI
 * @param output output root path or URI
 * @param master Spark master URL
 * @param conf {@code --conf} settings in the order given (later wins)
 * @param sweep the sweep flags ({@code --seeds}, {@code --images-per-prompt}, {@code --guidance},
 *     {@code --steps}, {@code --schedulers}, {@code --strengths}, {@code --guidance-rescale}),
 *     parsed by schemas' {@link SweepSpec}; {@link SweepSpec#NONE} when none is given
 * @param width {@code --width}, null when not given
 * @param height {@code --height}, null when not given
 * @param resume {@code --resume}
 * @param batchSize {@code --batch-size}
 * @param device {@code --device}
 * @param dtype {@code --dtype}
 * @param modelCache {@code --model-cache}, null: under the executor's local directory
 * @param maxFailures {@code --max-failures}, -1 for no limit
 * @param partitions {@code --partitions}, null: Spark's default parallelism
 * @param progressIntervalSeconds {@code --progress-interval}
 * @param json {@code tokenize --json}
 * @param file {@code tokenize --file}
 * @param prompts {@code tokenize}'s positional prompts
 * @param variant {@code make-tiny-model --variant}
 * @param seed {@code make-tiny-model --seed}
 * @param verbose {@code --verbose}: Spark's and libtorch's full logs (see {@link Logs})
 * @param args the raw arguments (use {@link Redaction#args} before showing them)
 * @param maxInputPixels {@code --max-input-pixels}: the largest init picture or mask accepted
 * @param adapterFlags {@code --lora} (in order), {@code --lora-dir}, {@code --embeddings}, {@code
 *     --controlnet}
 * @param componentFlags {@code --vae} and {@code --without-t5} (issues 16, 19)
 * @param maxSequenceLength {@code tokenize --max-sequence-length}: the T5 length of an SD3 model's
 *     {@code tokenizer_3} ids, null when not given (then 256, the column's default)
 */
public record JobOptions(
        String command,
        boolean help,
        String model,
        String input,
        String output,
        String master,
        Map<String, String> conf,
        SweepSpec sweep,
        Integer width,
        Integer height,
        boolean resume,
        int batchSize,
        Device device,
        String dtype,
        String modelCache,
        long maxFailures,
        Integer partitions,
        int progressIntervalSeconds,
        boolean json,
        String file,
        List<String> prompts,
        String variant,
        long seed,
        boolean verbose,
        List<String> args,
        long maxInputPixels,
        AdapterFlags adapterFlags,
        ComponentFlags componentFlags,
        Integer maxSequenceLength) {

    /**
     * The flags that change a model component for the whole job (issues 16, 19); both are part of
     * the model identity.
     *
     * @param vae {@code --vae DIR_OR_URI}: a VAE folder used instead of the model's, or null
     * @param withoutT5 {@code --without-t5}: SD3 loads no T5 encoder
     */
    public record ComponentFlags(String vae, boolean withoutT5) {}

    /**
     * The LoRA and embedding flags (issue 18).
     *
     * @param loras every {@code --lora URI[:weight]}, in order (for rows whose {@code loras} is
     *     null)
     * @param loraDir {@code --lora-dir}, or null
     * @param embeddings {@code --embeddings}, or null
     * @param controlNet {@code --controlnet}, or null
     */
    public record AdapterFlags(
            List<String> loras, String loraDir, String embeddings, String controlNet) {
        public AdapterFlags {
            loras = List.copyOf(loras);
        }
    }

    /** {@code --device}. */
    public enum Device {
        /** The GPU Spark assigned to the task if any, else the CPU. */
        AUTO,
        /** The CPU, even when Spark assigned a GPU (whose address is still recorded). */
        CPU,
        /** The assigned GPU; a task without one fails to start. */
        GPU;

        static Device parse(String value) {
            try {
                return valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new StartupException(
                        Flags.DEVICE + " must be auto, cpu or gpu, got '" + value + "'");
            }
        }
    }

    /** The subcommands. */
    public static final List<String> COMMANDS =
            List.of("generate", "validate", "tokenize", "make-tiny-model", "doctor");

    private static final Set<String> SWEEP_AND_RUN =
            Set.of(
                    Flags.MODEL,
                    Flags.INPUT,
                    Flags.MASTER,
                    Flags.CONF,
                    Flags.SEEDS,
                    Flags.IMAGES_PER_PROMPT,
                    Flags.GUIDANCE,
                    Flags.STEPS,
                    Flags.SCHEDULERS,
                    Flags.STRENGTHS,
                    Flags.GUIDANCE_RESCALE,
                    Flags.VAE,
                    Flags.WITHOUT_T5,
                    Flags.MAX_INPUT_PIXELS,
                    Flags.WIDTH,
                    Flags.HEIGHT,
                    Flags.PARTITIONS,
                    Flags.MODEL_CACHE,
                    Flags.VERBOSE,
                    Flags.LORA,
                    Flags.LORA_DIR,
                    Flags.EMBEDDINGS,
                    Flags.CONTROLNET,
                    Flags.HELP);

    private static final Set<String> BOOLEAN_FLAGS =
            Set.of(Flags.RESUME, Flags.JSON, Flags.VERBOSE, Flags.HELP, Flags.WITHOUT_T5);

    /** The flags each command accepts. */
    static Set<String> allowed(String command) {
        switch (command) {
            case "generate":
                Set<String> g = new java.util.HashSet<>(SWEEP_AND_RUN);
                g.addAll(
                        List.of(
                                Flags.OUTPUT,
                                Flags.RESUME,
                                Flags.BATCH_SIZE,
                                Flags.DEVICE,
                                Flags.DTYPE,
                                Flags.MAX_FAILURES,
                                Flags.PROGRESS_INTERVAL));
                return g;
            case "validate":
                Set<String> v = new java.util.HashSet<>(SWEEP_AND_RUN);
                v.add(Flags.OUTPUT); // with --resume semantics later; accepted for symmetry
                v.add(Flags.RESUME);
                return v;
            case "tokenize":
                return Set.of(
                        Flags.MODEL,
                        Flags.MODEL_CACHE,
                        Flags.JSON,
                        Flags.FILE,
                        Flags.HELP,
                        Flags.EMBEDDINGS,
                        Flags.MAX_SEQUENCE_LENGTH);
            case "make-tiny-model":
                return Set.of(Flags.OUTPUT, Flags.VARIANT, Flags.SEED, Flags.HELP);
            case "doctor":
                return Set.of(Flags.MODEL_CACHE, Flags.HELP);
            default:
                throw new StartupException(
                        "unknown command '"
                                + command
                                + "'; commands: "
                                + String.join(", ", COMMANDS));
        }
    }

    /**
     * Parses {@code sdbatch <command> [flags]}. Flags take their value as the next argument or
     * after {@code =}.
     *
     * @throws StartupException (exit 2) naming the flag and value for anything wrong
     */
    public static JobOptions parse(List<String> argv) {
        if (argv.isEmpty()) {
            throw new StartupException(
                    "no command given; commands: " + String.join(", ", COMMANDS));
        }
        String command = argv.get(0);
        Set<String> allowed = allowed(command);
        Map<String, String> single = new LinkedHashMap<>();
        Map<String, String> conf = new LinkedHashMap<>();
        List<String> positional = new ArrayList<>();
        List<String> loras = new ArrayList<>();
        for (int i = 1; i < argv.size(); i++) {
            String arg = argv.get(i);
            if (!arg.startsWith("--")) {
                if (!command.equals("tokenize")) {
                    throw new StartupException(
                            "unexpected argument '" + arg + "' for " + command + " (see --help)");
                }
                positional.add(arg);
                continue;
            }
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (!allowed.contains(name)) {
                throw new StartupException(
                        "unknown flag "
                                + name
                                + " for "
                                + command
                                + " (see "
                                + command
                                + " --help)");
            }
            if (BOOLEAN_FLAGS.contains(name)) {
                if (value != null) {
                    throw new StartupException(name + " takes no value, got '" + value + "'");
                }
                value = "true";
            } else if (value == null) {
                if (i + 1 >= argv.size()) {
                    throw new StartupException(name + " needs a value");
                }
                value = argv.get(++i);
            }
            if (name.equals(Flags.LORA)) {
                loras.add(value);
            } else if (name.equals(Flags.CONF)) {
                int kv = value.indexOf('=');
                if (kv <= 0) {
                    throw new StartupException(
                            Flags.CONF + " needs key=value, got '" + Redaction.uri(value) + "'");
                }
                conf.put(value.substring(0, kv).trim(), value.substring(kv + 1));
            } else if (single.put(name, value) != null) {
                throw new StartupException(name + " given twice");
            }
        }
        boolean help = single.containsKey(Flags.HELP);
        JobOptions options =
                new JobOptions(
                        command,
                        help,
                        single.get(Flags.MODEL),
                        single.get(Flags.INPUT),
                        single.get(Flags.OUTPUT),
                        single.getOrDefault(Flags.MASTER, Flags.MASTER_DEFAULT),
                        Collections.unmodifiableMap(conf),
                        sweep(single),
                        optional(single, Flags.WIDTH, v -> positiveInt(Flags.WIDTH, v)),
                        optional(single, Flags.HEIGHT, v -> positiveInt(Flags.HEIGHT, v)),
                        single.containsKey(Flags.RESUME),
                        orDefault(
                                single,
                                Flags.BATCH_SIZE,
                                v -> positiveInt(Flags.BATCH_SIZE, v),
                                Flags.BATCH_SIZE_DEFAULT),
                        Device.parse(single.getOrDefault(Flags.DEVICE, Flags.DEVICE_DEFAULT)),
                        parseDtype(single.getOrDefault(Flags.DTYPE, Flags.DTYPE_DEFAULT)),
                        single.get(Flags.MODEL_CACHE),
                        orDefault(
                                single,
                                Flags.MAX_FAILURES,
                                JobOptions::parseMaxFailures,
                                Flags.MAX_FAILURES_DEFAULT),
                        optional(single, Flags.PARTITIONS, v -> positiveInt(Flags.PARTITIONS, v)),
                        orDefault(
                                single,
                                Flags.PROGRESS_INTERVAL,
                                v -> positiveInt(Flags.PROGRESS_INTERVAL, v),
                                Flags.PROGRESS_INTERVAL_DEFAULT),
                        single.containsKey(Flags.JSON),
                        single.get(Flags.FILE),
                        List.copyOf(positional),
                        parseVariant(single.getOrDefault(Flags.VARIANT, Flags.VARIANT_DEFAULT)),
                        orDefault(single, Flags.SEED, JobOptions::parseSeed, 0L),
                        single.containsKey(Flags.VERBOSE),
                        List.copyOf(argv),
                        orDefault(
                                single,
                                Flags.MAX_INPUT_PIXELS,
                                JobOptions::parseMaxInputPixels,
                                PictureFiles.MAX_PIXELS_DEFAULT),
                        new AdapterFlags(
                                loras,
                                single.get(Flags.LORA_DIR),
                                single.get(Flags.EMBEDDINGS),
                                single.get(Flags.CONTROLNET)),
                        new ComponentFlags(
                                single.get(Flags.VAE), single.containsKey(Flags.WITHOUT_T5)),
                        optional(
                                single,
                                Flags.MAX_SEQUENCE_LENGTH,
                                JobOptions::parseMaxSequenceLength));
        if (!help) {
            options.checkRequired();
        }
        return options;
    }

    private void checkRequired() {
        switch (command) {
            case "generate":
                require(Flags.INPUT, input);
                require(Flags.OUTPUT, output);
                break;
            case "validate":
                require(Flags.INPUT, input);
                if (resume) {
                    require(Flags.OUTPUT, output);
                }
                break;
            case "tokenize":
                if (file == null && prompts.isEmpty()) {
                    throw new StartupException("tokenize needs prompts or " + Flags.FILE);
                }
                break;
            case "make-tiny-model":
                require(Flags.OUTPUT, output);
                break;
            case "doctor":
                break;
            default:
                throw new IllegalStateException(command);
        }
    }

    private void require(String flag, String value) {
        if (value == null || value.isBlank()) {
            throw new StartupException(
                    command + " needs " + flag + " (see " + command + " --help)");
        }
    }

    private interface Parser<T> {
        T parse(String value);
    }

    /** {@code --max-sequence-length}: 1..512, diffusers' bounds for T5. */
    private static int parseMaxSequenceLength(String v) {
        int n = positiveInt(Flags.MAX_SEQUENCE_LENGTH, v);
        if (n > 512) {
            throw new StartupException(
                    Flags.MAX_SEQUENCE_LENGTH
                            + " must be in 1..512 (diffusers' limit for T5), got "
                            + n);
        }
        return n;
    }

    private static <T> T optional(Map<String, String> flags, String name, Parser<T> parser) {
        String v = flags.get(name);
        return v == null ? null : parser.parse(v);
    }

    private static <T> T orDefault(
            Map<String, String> flags, String name, Parser<T> parser, T defaultValue) {
        T v = optional(flags, name, parser);
        return v == null ? defaultValue : v;
    }

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

    private static long parseMaxFailures(String value) {
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
    private static SweepSpec sweep(Map<String, String> flags) {
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
    private static long parseMaxInputPixels(String value) {
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

    private static long parseSeed(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new StartupException(Flags.SEED + " must be an integer, got '" + value + "'");
        }
    }

    private static String parseVariant(String value) {
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

    private static String parseDtype(String value) {
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
