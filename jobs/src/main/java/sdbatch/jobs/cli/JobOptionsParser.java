package sdbatch.jobs.cli;

import static sdbatch.jobs.cli.FlagValues.optional;
import static sdbatch.jobs.cli.FlagValues.orDefault;
import static sdbatch.jobs.cli.FlagValues.positiveInt;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import sdbatch.jobs.Redaction;
import sdbatch.jobs.pictures.PictureFiles;

/**
 * The grammar of {@code sdbatch <command> [flags]}: which flags each command accepts and needs, a
 * flag's value as the next argument or after {@code =}, boolean flags without one, {@code --lora}
 * and {@code --conf} repeatable, every other flag at most once. What each value may be is in {@link
 * FlagValues}; what the result means (and the precedence of its fields over row columns and model
 * defaults) is in {@link JobOptions}.
 */
final class JobOptionsParser {
    private JobOptionsParser() {}

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
                Set<String> g = new HashSet<>(SWEEP_AND_RUN);
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
                Set<String> v = new HashSet<>(SWEEP_AND_RUN);
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
                                + String.join(", ", JobOptions.COMMANDS));
        }
    }

    /**
     * Parses {@code sdbatch <command> [flags]}; see {@link JobOptions#parse}.
     *
     * @throws StartupException (exit 2) naming the flag and value for anything wrong
     */
    static JobOptions parse(List<String> argv) {
        if (argv.isEmpty()) {
            throw new StartupException(
                    "no command given; commands: " + String.join(", ", JobOptions.COMMANDS));
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
                        FlagValues.sweep(single),
                        optional(single, Flags.WIDTH, v -> positiveInt(Flags.WIDTH, v)),
                        optional(single, Flags.HEIGHT, v -> positiveInt(Flags.HEIGHT, v)),
                        single.containsKey(Flags.RESUME),
                        orDefault(
                                single,
                                Flags.BATCH_SIZE,
                                v -> positiveInt(Flags.BATCH_SIZE, v),
                                Flags.BATCH_SIZE_DEFAULT),
                        JobOptions.Device.parse(
                                single.getOrDefault(Flags.DEVICE, Flags.DEVICE_DEFAULT)),
                        FlagValues.parseDtype(
                                single.getOrDefault(Flags.DTYPE, Flags.DTYPE_DEFAULT)),
                        single.get(Flags.MODEL_CACHE),
                        orDefault(
                                single,
                                Flags.MAX_FAILURES,
                                FlagValues::parseMaxFailures,
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
                        FlagValues.parseVariant(
                                single.getOrDefault(Flags.VARIANT, Flags.VARIANT_DEFAULT)),
                        orDefault(single, Flags.SEED, FlagValues::parseSeed, 0L),
                        single.containsKey(Flags.VERBOSE),
                        List.copyOf(argv),
                        orDefault(
                                single,
                                Flags.MAX_INPUT_PIXELS,
                                FlagValues::parseMaxInputPixels,
                                PictureFiles.MAX_PIXELS_DEFAULT),
                        new JobOptions.AdapterFlags(
                                loras,
                                single.get(Flags.LORA_DIR),
                                single.get(Flags.EMBEDDINGS),
                                single.get(Flags.CONTROLNET)),
                        new JobOptions.ComponentFlags(
                                single.get(Flags.VAE), single.containsKey(Flags.WITHOUT_T5)),
                        optional(
                                single,
                                Flags.MAX_SEQUENCE_LENGTH,
                                FlagValues::parseMaxSequenceLength));
        if (!help) {
            checkRequired(options);
        }
        return options;
    }

    /** The flags {@code options}' command cannot do without (not checked with {@code --help}). */
    private static void checkRequired(JobOptions options) {
        String command = options.command();
        switch (command) {
            case "generate":
                require(command, Flags.INPUT, options.input());
                require(command, Flags.OUTPUT, options.output());
                break;
            case "validate":
                require(command, Flags.INPUT, options.input());
                if (options.resume()) {
                    require(command, Flags.OUTPUT, options.output());
                }
                break;
            case "tokenize":
                if (options.file() == null && options.prompts().isEmpty()) {
                    throw new StartupException("tokenize needs prompts or " + Flags.FILE);
                }
                break;
            case "make-tiny-model":
                require(command, Flags.OUTPUT, options.output());
                break;
            case "doctor":
                break;
            default:
                throw new IllegalStateException(command);
        }
    }

    private static void require(String command, String flag, String value) {
        if (value == null || value.isBlank()) {
            throw new StartupException(
                    command + " needs " + flag + " (see " + command + " --help)");
        }
    }
}
