package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.Cli;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.cli.GenerateCommand;
import sdbatch.jobs.storage.S3TestServer;

/**
 * Credentials from the standard {@code AWS_ACCESS_KEY_ID} / {@code AWS_SECRET_ACCESS_KEY}
 * environment variables, which no {@code --conf} mentions: a JVM cannot change its own environment,
 * so the job runs in a child JVM ({@code sdbatch.jobs.cli.Cli}, the real command line and job, on
 * the built-in tiny model at 2 steps) with the test's classpath, Spark's default INFO logging, and
 * only the endpoint settings on the command line. It must reach the bucket, and print the secret
 * nowhere.
 */
class S3EnvCredentialsTest {
    @TempDir static Path tmp;
    @AutoClose static S3TestServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = new S3TestServer(tmp.resolve("blobs")).start();
        S3Jobs.putText(server, server.uri("prompts.csv"), "prompt\na small boat\n");
    }

    @Test
    void environmentCredentialsReachS3aAndAreNeverPrinted() throws Exception {
        String output = server.uri("env-out");
        List<String> args = new ArrayList<>();
        for (String a :
                S3Jobs.generateArgs(
                        server,
                        server.uri("prompts.csv"),
                        output,
                        S3Jobs.smallJob(tmp.resolve("model-cache"), 1, 16)
                                .toArray(new String[0]))) {
            // Drop the credentials and the provider that reads them from the configuration.
            if (!a.contains("fs.s3a.access.key")
                    && !a.contains("fs.s3a.secret.key")
                    && !a.contains("fs.s3a.aws.credentials.provider")) {
                args.add(a);
            }
        }
        for (int i = 0; i < args.size() - 1; i++) {
            if (args.get(i).equals("--conf") && args.get(i + 1).equals("--conf")) {
                args.remove(i--);
            }
        }
        if (args.get(args.size() - 1).equals("--conf")) {
            args.remove(args.size() - 1);
        }
        // Only the environment provider: no fallback that would reach for a cloud metadata
        // endpoint off loopback.
        args.add("--conf");
        args.add(
                "spark.hadoop.fs.s3a.aws.credentials.provider="
                        + "software.amazon.awssdk.auth.credentials.EnvironmentVariableCredentialsProvider");
        assertFalse(String.join(" ", args).contains(S3TestServer.SECRET_KEY), "" + args);

        // Spark's own default log configuration (INFO to the console), as spark-submit has it.
        Path log4j = tmp.resolve("log4j2.properties");
        try (InputStream in =
                GenerateCommand.class
                        .getClassLoader()
                        .getResourceAsStream("org/apache/spark/log4j2-defaults.properties")) {
            Files.write(log4j, in.readAllBytes());
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String jvmArg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (jvmArg.startsWith("--add-")
                    || jvmArg.startsWith("-XX:+IgnoreUnrecognized")
                    || jvmArg.startsWith("-Djdk.reflect")
                    || jvmArg.startsWith("-Dai.djl")
                    || jvmArg.startsWith("-Dio.netty")) {
                command.add(jvmArg);
            }
        }
        command.addAll(
                List.of(
                        "-Xmx1g",
                        "-Dlog4j2.configurationFile=" + log4j,
                        "-cp",
                        System.getProperty("java.class.path"),
                        Cli.class.getName()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("AWS_ACCESS_KEY_ID", S3TestServer.ACCESS_KEY);
        pb.environment().put("AWS_SECRET_ACCESS_KEY", S3TestServer.SECRET_KEY);
        pb.environment().remove("AWS_SESSION_TOKEN");
        pb.environment().remove("AWS_PROFILE");
        Path printed = tmp.resolve("child.log");
        pb.redirectOutput(printed.toFile());
        Process child = pb.start();
        boolean exited = child.waitFor(180, TimeUnit.SECONDS);
        if (!exited) {
            child.destroyForcibly().waitFor();
        }
        String text = Files.readString(printed, StandardCharsets.UTF_8);
        assertTrue(exited, "the child did not finish:\n" + text);
        assertEquals(ExitCode.OK.code(), child.exitValue(), text);
        assertTrue(text.contains("INFO SparkContext: Running Spark version"), text);
        assertFalse(text.contains(S3TestServer.SECRET_KEY), "secret printed:\n" + text);
        assertFalse(text.contains(S3TestServer.ACCESS_KEY), "access key printed:\n" + text);

        JsonObject json = S3Checks.runJson(server, output);
        assertEquals(1, json.getAsJsonObject("counts").get("ok").getAsInt(), json.toString());
        assertFalse(json.toString().contains(S3TestServer.SECRET_KEY));
        assertEquals(
                1,
                S3Jobs.listFiles(server, output).stream()
                        .filter(f -> f.startsWith("images/"))
                        .count());
    }
}
