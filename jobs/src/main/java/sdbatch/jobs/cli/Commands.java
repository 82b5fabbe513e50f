package sdbatch.jobs.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** The subcommands this build runs (name to implementation), in help order. */
final class Commands {
    private Commands() {}

    static Map<String, Cli.Command> all() {
        Map<String, Cli.Command> m = new LinkedHashMap<>();
        m.put("generate", new GenerateCommand());
        m.put("validate", new ValidateCommand());
        m.put("tokenize", new TokenizeCommand());
        m.put("make-tiny-model", new MakeTinyModelCommand());
        m.put("doctor", new DoctorCommand());
        return m;
    }
}
