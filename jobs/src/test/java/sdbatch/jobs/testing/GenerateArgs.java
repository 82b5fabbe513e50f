package sdbatch.jobs.testing;

import java.util.ArrayList;
import java.util.List;
import sdbatch.jobs.cli.JobOptions;

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

    /** {@link #of} parsed as the command line parses it. */
    public static JobOptions options(Object input, Object output, String... flags) {
        return JobOptions.parse(of(input, output, flags));
    }
}
