package sdbatch.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Finds {@code deploy/} from the jobs module and runs its scripts. */
final class DeployFiles {

    private DeployFiles() {}

    /** The repository's deploy/ folder (tests run with the jobs module as working directory). */
    static Path deployDir() {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path p = cwd; p != null; p = p.getParent()) {
            Path d = p.resolve("deploy");
            if (Files.isRegularFile(d.resolve("submit-local.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("no deploy/submit-local.sh above " + cwd);
    }

    /** Every shell script under deploy/ (submit-*.sh, gpu-discovery.sh, lib/*.sh). */
    static List<Path> scripts() throws IOException {
        try (Stream<Path> walk = Files.walk(deployDir())) {
            return walk.filter(p -> p.toString().endsWith(".sh")).sorted().toList();
        }
    }

    /** Result of a finished process. */
    record Run(int exitCode, String stdout, String stderr) {}

    /** Runs a command with extra environment variables; fails after 60 s. */
    static Run run(List<String> command, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(deployDir().toFile());
        pb.environment().putAll(env);
        Path out = Files.createTempFile("sdbatch-deploy", ".out");
        Path err = Files.createTempFile("sdbatch-deploy", ".err");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + command);
            return new Run(
                    p.exitValue(),
                    Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs a deploy script with bash. */
    static Run bash(String script, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add("bash");
        cmd.add(deployDir().resolve(script).toString());
        cmd.addAll(List.of(args));
        return run(cmd, env);
    }

    /**
     * Splits the dry-run output (one bash command line with backslash-newline continuations) into
     * words the way bash would: whitespace separates, '...' is literal, backslash escapes.
     */
    static List<String> shellWords(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                char next = text.charAt(++i);
                if (next == '\n') {
                    continue;
                }
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(next);
            } else if (c == '\'') {
                cur = cur == null ? new StringBuilder() : cur;
                int end = text.indexOf('\'', i + 1);
                if (end < 0) {
                    throw new IllegalArgumentException("unterminated quote in: " + text);
                }
                cur.append(text, i + 1, end);
                i = end;
            } else if (Character.isWhitespace(c)) {
                if (cur != null) {
                    words.add(cur.toString());
                    cur = null;
                }
            } else {
                cur = cur == null ? new StringBuilder() : cur;
                cur.append(c);
            }
        }
        if (cur != null) {
            words.add(cur.toString());
        }
        return words;
    }
}
