package sdbatch.jobs;

import java.util.Map;

/**
 * The subcommands this build can run (name to implementation). Empty until the pipeline and schemas
 * modules are wired in: {@code generate} becomes {@code new
 * sdbatch.jobs.spark.GenerateCommand(factory)} with a factory building the {@code RowPlanner} from
 * schemas' validation and sweep expansion and the generator from the pipeline; until then {@link
 * Cli} answers every command with exit 2 and "not available in this build".
 */
final class Commands {
    private Commands() {}

    static Map<String, Cli.Command> all() {
        return Map.of();
    }
}
