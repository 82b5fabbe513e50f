package sdbatch.jobs.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import sdbatch.jobs.Redaction;

/**
 * {@code sdbatch <command> [flags]}: parses the command line once into {@link JobOptions}, prints
 * help, and runs the command. Parsing errors exit with {@link ExitCode#CANNOT_START} and a message
 * naming the flag and value; the command's own exit code otherwise.
 */
public final class Cli {
    /** One subcommand. */
    @FunctionalInterface
    public interface Command {
        /** Runs the command with parsed options; returns the exit code. */
        ExitCode run(JobOptions options, PrintStream out, PrintStream err) throws Exception;
    }

    private final Map<String, Command> commands;

    /** A command line with the given subcommand implementations (name to command). */
    public Cli(Map<String, Command> commands) {
        this.commands = new LinkedHashMap<>(commands);
    }

    /** The command line with every command of this build. */
    public static Cli standard() {
        return new Cli(Commands.all());
    }

    /** Entry point of {@code bin/sdbatch}. */
    public static void main(String[] args) {
        Logs.configure(Arrays.asList(args));
        int code = standard().run(Arrays.asList(args), System.out, System.err);
        System.exit(code);
    }

    /** Parses and runs; returns the process exit status. */
    public int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty() || args.get(0).equals(Flags.HELP) || args.get(0).equals("help")) {
            out.print(usage());
            return args.isEmpty() ? ExitCode.CANNOT_START.code() : ExitCode.OK.code();
        }
        if (args.get(0).equals("bench")) {
            // The benchmark has its own flags (BenchCommand and the pipeline's Bench).
            return BenchCommand.run(args.subList(1, args.size()), out, err);
        }
        JobOptions options;
        try {
            options = JobOptions.parse(args);
        } catch (StartupException e) {
            err.println("sdbatch: " + e.getMessage());
            return ExitCode.CANNOT_START.code();
        }
        if (options.help()) {
            out.print(help(options.command()));
            return ExitCode.OK.code();
        }
        Command command = commands.get(options.command());
        if (command == null) {
            err.println("sdbatch: " + options.command() + " is not available in this build");
            return ExitCode.CANNOT_START.code();
        }
        try {
            return command.run(options, out, err).code();
        } catch (StartupException e) {
            // Messages name tables, models and outputs: a URI's credentials never reach the user.
            err.println("sdbatch " + options.command() + ": " + Redaction.text(e.getMessage()));
            return ExitCode.CANNOT_START.code();
        } catch (Exception e) {
            // Anything else escaping a command is a job that could not run to its end; report it
            // whole (with causes, credentials hidden) and count it as failed rather than crash.
            err.println("sdbatch " + options.command() + " failed:");
            java.io.StringWriter trace = new java.io.StringWriter();
            e.printStackTrace(new java.io.PrintWriter(trace));
            err.print(Redaction.text(trace.toString()));
            return ExitCode.FAILED_ROWS.code();
        }
    }

    /** The top-level usage text. */
    public static String usage() {
        return String.join(
                "\n",
                "usage: sdbatch <command> [flags]   (sdbatch <command> --help for its flags)",
                "",
                "commands:",
                "  generate         generate the images of a prompt table on Spark",
                "  validate         print what generate would do, without generating",
                "  tokenize         print the CLIP token ids of prompts (no Spark)",
                "  make-tiny-model  write a tiny random-weight model folder (draws noise)",
                "  bench            measure speed against libtorch's floor and a bare loop (BENCHMARKS.md)",
                "  doctor           check this machine: Java, CPU flags, libtorch, GPUs, s3a, model cache, numerics",
                "",
                "exit codes: 0 all rows ok; 2 could not start; 3 some rows invalid; 4 some rows failed",
                "");
    }

    private static final String SWEEP_HELP =
            String.join(
                    "\n",
                    "  "
                            + Flags.MODEL
                            + " DIR_OR_URI        diffusers model folder (default: built-in tiny random model)",
                    "  "
                            + Flags.INPUT
                            + " TABLE             prompt table: Parquet file/dir, .csv, .jsonl (any Hadoop URI)",
                    "  "
                            + Flags.MASTER
                            + " URL              Spark master (default "
                            + Flags.MASTER_DEFAULT
                            + ")",
                    "  "
                            + Flags.CONF
                            + " KEY=VALUE         Spark/Hadoop setting, repeatable (spark.hadoop.fs.s3a.endpoint=...)",
                    "  "
                            + Flags.SEEDS
                            + " LIST             seeds for rows without one, e.g. 0-99,1234",
                    "  "
                            + Flags.IMAGES_PER_PROMPT
                            + " N     images per row, seeds derived from the row (default "
                            + Flags.IMAGES_PER_PROMPT_DEFAULT
                            + ")",
                    "  "
                            + Flags.GUIDANCE
                            + " LIST          guidance scales for rows without one, e.g. 1.5,3,7.5",
                    "  "
                            + Flags.STEPS
                            + " LIST             step counts for rows without steps, e.g. 20,50",
                    "  "
                            + Flags.SCHEDULERS
                            + " LIST        schedulers for rows without one, e.g. euler_a,dpmpp_2m",
                    "  "
                            + Flags.STRENGTHS
                            + " LIST         strengths for rows with an init_image and none, e.g."
                            + " 0.3,0.5,0.8",
                    "  "
                            + Flags.GUIDANCE_RESCALE
                            + " LIST  guidance_rescale values in [0, 1] for rows without one, e.g."
                            + " 0,0.7",
                    "  "
                            + Flags.VAE
                            + " DIR_OR_URI          a VAE folder used instead of the model's (every"
                            + " family; in the model identity)",
                    "  "
                            + Flags.WITHOUT_T5
                            + "           SD3: load no T5 encoder (zeros for its part; in the model"
                            + " identity)",
                    "  "
                            + Flags.MAX_INPUT_PIXELS
                            + " N|WxH  largest init picture or mask (default 4096x4096)",
                    "  "
                            + Flags.WIDTH
                            + " N, "
                            + Flags.HEIGHT
                            + " N     size for rows without one (default: the model's)",
                    "  "
                            + Flags.PARTITIONS
                            + " N           generation partitions (default: Spark's parallelism)",
                    "  "
                            + Flags.MODEL_CACHE
                            + " DIR        local folder for remote model copies and the built-in model",
                    "                         (default: $SDBATCH_MODEL_CACHE, else ~/.cache/sdbatch/models)",
                    "  "
                            + Flags.VERBOSE
                            + "                Spark's INFO logs and libtorch's warnings (default: warnings and"
                            + " errors only;",
                    "                         a log4j2 configuration of your own, -Dlog4j2.configurationFile=...,"
                            + " also wins)",
                    "precedence: a row's own column > the flag > the model's default;",
                    "list flags sweep: each row expands over the cross product of the lists it leaves open.",
                    "");

    /** The help text of one command. */
    public static String help(String command) {
        switch (command) {
            case "generate":
                return String.join(
                        "\n",
                        "usage: sdbatch generate --input TABLE --output DIR_OR_URI [flags]",
                        "Generates one image per expanded request; writes images/, metadata/ (Parquet) and run.json.",
                        "",
                        SWEEP_HELP
                                + "  "
                                + Flags.OUTPUT
                                + " DIR_OR_URI       output root (local folder, hdfs://, s3a://)",
                        "  "
                                + Flags.RESUME
                                + "                skip images already ok in the output",
                        "  "
                                + Flags.BATCH_SIZE
                                + " N           compatible requests per batch (default "
                                + Flags.BATCH_SIZE_DEFAULT
                                + ")",
                        "  "
                                + Flags.DEVICE
                                + " auto|cpu|gpu    auto: the task's Spark GPU if any, else CPU (default "
                                + Flags.DEVICE_DEFAULT
                                + ")",
                        "  "
                                + Flags.DTYPE
                                + " fp32|fp16|bf16   compute precision: fp32 anywhere; fp16 on GPU"
                                + " only; bf16 on CPU only (float32 weights, bfloat16 convolutions,"
                                + " linear layers, self-attention; refused where this CPU's bfloat16"
                                + " kernels fail their self-check). Other combinations exit 2"
                                + " (default "
                                + Flags.DTYPE_DEFAULT
                                + ")",
                        "  "
                                + Flags.MAX_FAILURES
                                + " N         stop once more than N generations failed (default: no limit)",
                        "  "
                                + Flags.PROGRESS_INTERVAL
                                + " S    seconds between progress lines (default "
                                + Flags.PROGRESS_INTERVAL_DEFAULT
                                + ")",
                        "exit codes: 0 all rows ok; 2 could not start; 3 some rows invalid; 4 some rows failed",
                        "");
            case "validate":
                return String.join(
                        "\n",
                        "usage: sdbatch validate --input TABLE [flags]",
                        "Prints rows by status, images after expansion and UNet evaluations, without generating.",
                        "",
                        SWEEP_HELP
                                + "  "
                                + Flags.OUTPUT
                                + " DIR_OR_URI, "
                                + Flags.RESUME
                                + "  count only what a resumed run would do",
                        "");
            case "tokenize":
                return String.join(
                        "\n",
                        "usage: sdbatch tokenize [--model DIR] [--json] [--file F] [--max-sequence-length N] [PROMPT...]",
                        "Prints per prompt the 77 padded token ids of the model's tokenizer and how many tokens were cut;",
                        "SDXL's and SD3's tokenizer_2 follows, and SD3's T5 tokenizer_3, padded to max_sequence_length.",
                        "No Spark. Without --model: the built-in tiny model's (synthetic) tokenizer.",
                        "  " + Flags.MODEL + " DIR_OR_URI  diffusers model folder",
                        "  " + Flags.JSON + "       one JSON object per line, ids under input_ids",
                        "  " + Flags.FILE + " F     prompts from F, one per line",
                        "  "
                                + Flags.MAX_SEQUENCE_LENGTH
                                + " N  SD3: T5 tokens, 1..512 (default 256, as the column's)",
                        "");
            case "make-tiny-model":
                return String.join(
                        "\n",
                        "usage: sdbatch make-tiny-model --output DIR [--variant sd1|sd2v|sd15-shaped|sdxl|sdxl-shaped|sd3|sd3-medium-shaped] [--seed N]",
                        "Writes a tiny diffusers-layout model with random weights: its images are noise,",
                        "useful only to test the plumbing (the -shaped variants: real shapes for benchmarks,",
                        "several GB: sd15-shaped 4 GB, sdxl-shaped 14 GB, sd3-medium-shaped 30 GB).",
                        "  "
                                + Flags.VARIANT
                                + " V   sd1 (default), sd2v, sd15-shaped, sdxl (two text encoders), sdxl-shaped, sd3 (SD3-medium in miniature) or sd3-medium-shaped",
                        "  " + Flags.SEED + " N      seed of the random weights (default 0)",
                        "");
            case "doctor":
                return String.join(
                        "\n",
                        "usage: sdbatch doctor [--model-cache DIR]",
                        "Checks this machine: Java, the CPU flags that decide libtorch's kernels (AVX2, AVX-512,",
                        "BF16, AMX), the libtorch DJL loaded and the GPUs it sees, s3a classes, the model cache,",
                        "and a few-second numeric self-check (float32 against float64, bf16 kernels against",
                        "float32, a tiny model's fp32 and bf16 images). One line per check; exit 0 only when",
                        "no check failed, else 2.",
                        "  "
                                + Flags.MODEL_CACHE
                                + " DIR   model cache to check (default: $SDBATCH_MODEL_CACHE, else ~/.cache/sdbatch/models)",
                        "");
            default:
                throw new StartupException("unknown command '" + command + "'");
        }
    }
}
