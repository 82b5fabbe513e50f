package sdbatch.jobs.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import sdbatch.jobs.cli.Cli;
import sdbatch.jobs.cli.GenerateCommand;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.spark.GenerateJob;

/** The command line of {@code sdbatch generate} that tests run: input, output, then their flags. */
public final class GenerateArgs {
    private GenerateArgs() {}

    /** {@code generate --input INPUT --output OUTPUT FLAGS...} (paths or URIs, as text). */
    public static List<String> of(Object input, Object output, String... flags) {
        List<String> args = new ArrayList<>(List.of("generate", "--input", input.toString()));
        args.add("--output");
        args.add(output.toString());
        args.addAll(List.of(flags));
        return args;
    }

    /**
     * {@code generate --input INPUT --output OUTPUT --model MODEL --steps 2 FLAGS...}: the short
     * run the job tests make on a generated tiny model.
     */
    public static List<String> twoSteps(Object input, Object output, Path model, String... flags) {
        List<String> args = of(input, output, "--model", model.toString(), "--steps", "2");
        args.addAll(List.of(flags));
        return args;
    }

    /** {@code validate --input INPUT FLAGS...}: the same table checked without generating. */
    public static List<String> validate(Object input, String... flags) {
        List<String> args = new ArrayList<>(List.of("validate", "--input", input.toString()));
        args.addAll(List.of(flags));
        return args;
    }

    /** {@link #of} parsed as the command line parses it. */
    public static JobOptions options(Object input, Object output, String... flags) {
        return JobOptions.parse(of(input, output, flags));
    }

    /** What the command line printed (stdout and stderr together) and its exit code. */
    public record CliRun(int code, String text) {}

    /** Runs {@code args} through the standard command line, as {@code bin/sdbatch} does. */
    public static CliRun run(List<String> args) {
        return run(Cli.standard(), args);
    }

    /** Runs {@code args} through {@code cli} (one with a test's hooks), as {@link #run} does. */
    public static CliRun run(Cli cli, List<String> args) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8);
        int code = cli.run(args, ps, ps);
        return new CliRun(code, log.toString(StandardCharsets.UTF_8));
    }

    /**
     * A command line of {@code generate} alone whose job is the real one ({@link
     * GenerateCommand#pipelineComponents}: the model of {@code --model}, its row planner, the
     * pipeline generator), except that its generator factory goes through {@code hook} first: how a
     * test watches or interrupts the real generate calls.
     */
    public static Cli withGeneratorHook(UnaryOperator<GenerateJob.GeneratorFactory> hook) {
        GenerateCommand generate =
                new GenerateCommand(
                        (options, spark, truncated, log) -> {
                            GenerateJob.Components real =
                                    GenerateCommand.pipelineComponents(
                                            options, spark, truncated, log);
                            return new GenerateJob.Components(
                                    real.planner(), hook.apply(real.generators()), real.model());
                        });
        return new Cli(Map.of("generate", generate));
    }
}
