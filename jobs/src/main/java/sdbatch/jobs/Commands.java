package sdbatch.jobs;

import java.util.Map;

/** The subcommands this build can run (name to implementation). */
final class Commands {
    private Commands() {}

    static Map<String, Cli.Command> all() {
        return Map.of();
    }
}
