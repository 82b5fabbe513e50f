package sdbatch.jobs.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code bin/sdbatch} as a user does: a separate process from the repository root, its
 * standard output and error together, as the terminal would show them.
 *
 * <p>Only for integration tests ({@code *IT}, maven-failsafe-plugin): they run after {@code
 * package}, so the launcher finds this build's jar and {@code jobs/target/launcher-classpath.txt}
 * and does not start a Maven build of its own (which would rewrite {@code jobs/target} under the
 * running build). {@link #run} refuses to start where they are missing.
 */
public final class Launcher {
    private Launcher() {}

    /** What bin/sdbatch prints before it runs Maven to build the jar. */
    static final String BUILDING = "sdbatch: building the jar";

    /**
     * What a run printed and how it ended.
     *
     * @param exitCode the process's exit status
     * @param output stdout and stderr interleaved, as printed
     */
    public record Result(int exitCode, String output) {
        /** The printed lines. */
        public List<String> lines() {
            return output.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n" + output;
        }
    }

    /** The repository root (the folder holding {@code bin/sdbatch}) above the working directory. */
    public static Path repositoryRoot() {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path p = cwd; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("bin/sdbatch"))
                    && Files.isDirectory(p.resolve("jobs"))) {
                return p;
            }
        }
        throw new IllegalStateException("no bin/sdbatch above " + cwd);
    }

    /**
     * Runs {@code bin/sdbatch args} from the repository root with {@code env} added to this
     * process's environment, and waits at most {@code timeoutSeconds}.
     */
    public static Result run(List<String> args, Map<String, String> env, long timeoutSeconds)
            throws IOException, InterruptedException {
        Path root = repositoryRoot();
        Path classpath = root.resolve("jobs/target/launcher-classpath.txt");
        if (!Files.isRegularFile(classpath)) {
            throw new IllegalStateException(
                    classpath
                            + " is missing: launcher tests run in the integration-test phase,"
                            + " after package (mvn verify)");
        }
        List<String> command = new ArrayList<>();
        command.add(root.resolve("bin/sdbatch").toString());
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile());
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        Path printed = Files.createTempFile("sdbatch-launcher", ".log");
        try {
            pb.redirectOutput(printed.toFile());
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(
                        "bin/sdbatch did not finish in "
                                + timeoutSeconds
                                + " s:\n"
                                + Files.readString(printed, StandardCharsets.UTF_8));
            }
            String output = Files.readString(printed, StandardCharsets.UTF_8);
            if (output.contains(BUILDING)) {
                throw new AssertionError(
                        "bin/sdbatch built the jar itself: its sources are newer than the packaged"
                                + " jar (run the launcher tests through mvn verify):\n"
                                + output);
            }
            return new Result(p.exitValue(), output);
        } finally {
            Files.deleteIfExists(printed);
        }
    }
}
