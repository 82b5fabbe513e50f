package sdbatch.jobs.s3;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.ExitCode;
import sdbatch.jobs.storage.S3TestServer;
import sdbatch.jobs.testing.Launcher;

/**
 * README's s3a command through {@code bin/sdbatch} itself, as a user runs it: model folder, prompt
 * table and output all on an S3 server (s3proxy on loopback), reached with nothing but {@code
 * --conf spark.hadoop.fs.s3a.*}. The in-process s3a tests run the job on the test classpath, where
 * hadoop-aws always was; this one runs on the launcher's own classpath, which lacked it (the
 * command died with {@code ClassNotFoundException: org.apache.hadoop.fs.s3a.S3AFileSystem}).
 */
class LauncherS3IT {
    @TempDir static Path tmp;
    @AutoClose static S3TestServer server;
    static String model;

    @BeforeAll
    static void startServerAndUpload() throws Exception {
        server = new S3TestServer(tmp.resolve("blobs")).start();
        model = S3Fixtures.uploadTinyModel(server, tmp, 5);
        S3Jobs.putText(
                server,
                server.uri("prompts/prompts.csv"),
                "prompt,seed\na red kite,7\na grey heron,\n");
    }

    @Test
    void readmeS3aCommandRunsThroughTheLauncher() throws Exception {
        String output = server.uri("run1/");
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "generate",
                                "--model",
                                model,
                                "--input",
                                server.uri("prompts/prompts.csv"),
                                "--output",
                                output,
                                "--master",
                                "local[2]",
                                "--model-cache",
                                tmp.resolve("model-cache").toString(),
                                "--steps",
                                "2",
                                "--width",
                                "32",
                                "--height",
                                "32",
                                "--progress-interval",
                                "2"));
        for (String c : S3Jobs.SPARK_CONF) {
            args.add("--conf");
            args.add(c);
        }
        for (Map.Entry<String, String> e : server.hadoopSettings().entrySet()) {
            args.add("--conf");
            args.add("spark.hadoop." + e.getKey() + "=" + e.getValue());
        }

        Launcher.Result run = Launcher.run(args, Map.of("SDBATCH_JAVA_OPTS", "-Xmx1500m"), 600);

        assertEquals(ExitCode.OK.code(), run.exitCode(), run.toString());
        assertFalse(run.output().contains("ClassNotFoundException"), run.toString());
        for (String secret : List.of(S3TestServer.SECRET_KEY, S3TestServer.ACCESS_KEY)) {
            assertFalse(run.output().contains(secret), "credential printed:\n" + run);
        }
        // Not vacuous: the echoed configuration names the secret's key.
        assertTrue(run.output().contains("spark.hadoop.fs.s3a.secret.key="), run.toString());

        TreeSet<String> files = S3Jobs.listFiles(server, output);
        assertEquals(
                2,
                files.stream().filter(f -> f.matches("images/[0-9a-f]{2}/.+\\.png")).count(),
                files.toString());
        assertTrue(files.stream().anyMatch(f -> f.matches("metadata/.+\\.parquet")), "" + files);
        JsonObject json = S3Checks.runJson(server, output);
        assertEquals(2, json.getAsJsonObject("counts").get("ok").getAsInt(), json.toString());
        for (String secret : List.of(S3TestServer.SECRET_KEY, S3TestServer.ACCESS_KEY)) {
            assertFalse(json.toString().contains(secret), "credential in run.json: " + json);
        }
        assertTrue(
                json.getAsJsonObject("conf").has("spark.hadoop.fs.s3a.secret.key"),
                "run.json records the configuration keys: " + json);
    }
}
