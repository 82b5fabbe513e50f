package sdbatch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The spark-submit wrappers' --dry-run output, the discovery script and shellcheck. */
class DeployScriptsTest {

    static final String SECRET = "s3cr3t-Value-That-Must-Not-Leak";
    static final Map<String, String> ENV = Map.of("SPARK_HOME", "/opt/spark-test");

    /** Runs a script with --dry-run; checks exit 0, no secret anywhere, and returns the words. */
    static List<String> dryRun(String script, String... args) throws Exception {
        // Secrets first: anything after a "--" in args belongs to the job.
        List<String> all =
                new ArrayList<>(
                        List.of(
                                "--dry-run",
                                "--conf",
                                "spark.hadoop.fs.s3a.secret.key=" + SECRET,
                                "--conf",
                                "spark.hadoop.fs.s3a.session.token=" + SECRET,
                                "--conf",
                                "spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:9000"));
        all.addAll(List.of(args));
        DeployFiles.Run r = DeployFiles.bash(script, ENV, all.toArray(String[]::new));
        assertEquals(0, r.exitCode(), script + " failed: " + r.stderr());
        assertFalse(r.stdout().contains(SECRET), "secret leaked on stdout:\n" + r.stdout());
        assertFalse(r.stderr().contains(SECRET), "secret leaked on stderr:\n" + r.stderr());
        List<String> words = DeployFiles.shellWords(r.stdout());
        assertEquals("/opt/spark-test/bin/spark-submit", words.get(0), r.stdout());
        assertTrue(words.contains("spark.hadoop.fs.s3a.secret.key=***"), r.stdout());
        assertTrue(words.contains("spark.hadoop.fs.s3a.session.token=***"), r.stdout());
        assertTrue(words.contains("spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:9000"));
        return words;
    }

    /** Runs a script with --dry-run and {@code args}; checks that it refuses them with exit 2. */
    static DeployFiles.Run usageError(String script, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("--dry-run"));
        all.addAll(List.of(args));
        DeployFiles.Run r = DeployFiles.bash(script, ENV, all.toArray(String[]::new));
        assertEquals(2, r.exitCode());
        return r;
    }

    /** The value after option {@code opt} (first occurrence). */
    static String option(List<String> words, String opt) {
        int i = words.indexOf(opt);
        assertTrue(i >= 0 && i + 1 < words.size(), opt + " missing in " + words);
        return words.get(i + 1);
    }

    /** Every --conf KEY=VALUE, last one winning (spark-submit's rule). */
    static Map<String, String> confs(List<String> words) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < words.size(); i++) {
            if (words.get(i).equals("--conf")) {
                String kv = words.get(i + 1);
                m.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            }
        }
        return m;
    }

    /** The application words after the jar: "generate --model ... ". */
    static List<String> jobArgs(List<String> words) {
        int i = words.indexOf("generate");
        assertTrue(i > 0, "no generate subcommand in " + words);
        return words.subList(i, words.size());
    }

    @Test
    void localDryRun() throws Exception {
        List<String> w =
                dryRun(
                        "submit-local.sh",
                        "--input",
                        "examples/prompts.csv",
                        "--output",
                        "/tmp/out dir",
                        "--driver-memory",
                        "6g",
                        "--",
                        "--seeds",
                        "0-9",
                        "--device",
                        "cpu");
        assertEquals("local[*]", option(w, "--master"));
        assertEquals("sdbatch.jobs.cli.Cli", option(w, "--class"));
        assertEquals("6g", option(w, "--driver-memory"));
        Map<String, String> c = confs(w);
        assertFalse(
                c.containsKey("spark.executor.resource.gpu.amount"), "no GPU scheduling locally");
        assertEquals("-Dai.djl.offline=true", c.get("spark.executor.extraJavaOptions"));
        assertEquals(
                List.of(
                        "generate",
                        "--input",
                        "examples/prompts.csv",
                        "--output",
                        "/tmp/out dir",
                        "--seeds",
                        "0-9",
                        "--device",
                        "cpu"),
                jobArgs(w));
        assertTrue(w.get(w.indexOf("generate") - 1).endsWith(".jar"), "jar before the job args");
    }

    @Test
    void localRejectsGpuSchedulingOutsideLocalCluster() throws Exception {
        DeployFiles.Run r =
                usageError(
                        "submit-local.sh",
                        "--input",
                        "a",
                        "--output",
                        "b",
                        "--gpus-per-executor",
                        "1");
        assertTrue(r.stderr().contains("local-cluster"), r.stderr());

        List<String> w =
                dryRun(
                        "submit-local.sh",
                        "--master",
                        "local-cluster[2,1,1024]",
                        "--input",
                        "a",
                        "--output",
                        "b",
                        "--gpus-per-executor",
                        "1");
        Map<String, String> c = confs(w);
        assertEquals("1", c.get("spark.executor.resource.gpu.amount"));
        assertTrue(
                c.get("spark.executor.resource.gpu.discoveryScript").endsWith("/gpu-discovery.sh"));
    }

    @Test
    void standaloneDryRun() throws Exception {
        List<String> w =
                dryRun(
                        "submit-standalone.sh",
                        "--master",
                        "spark://10.1.2.3:7077",
                        "--model",
                        "s3a://models/sd15/",
                        "--input",
                        "s3a://in/prompts.parquet",
                        "--output",
                        "s3a://out/run1/",
                        "--num-executors",
                        "4",
                        "--executor-cores",
                        "8",
                        "--executor-memory",
                        "40g",
                        "--gpus-per-task",
                        "0.5");
        assertEquals("spark://10.1.2.3:7077", option(w, "--master"));
        assertEquals("8", option(w, "--executor-cores"));
        assertEquals("40g", option(w, "--executor-memory"));
        Map<String, String> c = confs(w);
        assertEquals("32", c.get("spark.cores.max"));
        assertEquals("1", c.get("spark.executor.resource.gpu.amount"));
        assertEquals("0.5", c.get("spark.task.resource.gpu.amount"));
        assertEquals(
                List.of(
                        "generate",
                        "--model",
                        "s3a://models/sd15/",
                        "--input",
                        "s3a://in/prompts.parquet",
                        "--output",
                        "s3a://out/run1/"),
                jobArgs(w));
    }

    @Test
    void yarnDryRun() throws Exception {
        List<String> w =
                dryRun(
                        "submit-yarn.sh",
                        "--model",
                        "hdfs:///models/sd15",
                        "--input",
                        "hdfs:///in",
                        "--output",
                        "hdfs:///out",
                        "--queue",
                        "gpu",
                        "--num-executors",
                        "3",
                        "--gpus-per-executor",
                        "2",
                        "--executor-env",
                        "PYTORCH_FLAVOR=cu128");
        assertEquals("yarn", option(w, "--master"));
        assertEquals("cluster", option(w, "--deploy-mode"));
        assertEquals("gpu", option(w, "--queue"));
        assertEquals("3", option(w, "--num-executors"));
        assertTrue(option(w, "--files").endsWith("deploy/gpu-discovery.sh"));
        Map<String, String> c = confs(w);
        assertEquals("2", c.get("spark.executor.resource.gpu.amount"));
        assertEquals("1", c.get("spark.task.resource.gpu.amount"));
        assertEquals("./gpu-discovery.sh", c.get("spark.executor.resource.gpu.discoveryScript"));
        assertEquals("cu128", c.get("spark.executorEnv.PYTORCH_FLAVOR"));
    }

    @Test
    void k8sDryRunRedactsUserInfoAndSecretRefs() throws Exception {
        List<String> w =
                dryRun(
                        "submit-k8s.sh",
                        "--master",
                        "k8s://https://10.0.0.1:6443",
                        "--image",
                        "registry.example/sdbatch:0.1.0",
                        "--model",
                        "s3a://AKIAEXAMPLE:" + SECRET + "@models/sd15/",
                        "--input",
                        "s3a://in/p.parquet",
                        "--output",
                        "s3a://out/r/",
                        "--num-executors",
                        "2",
                        "--s3-credentials-secret",
                        "s3-creds");
        assertEquals("k8s://https://10.0.0.1:6443", option(w, "--master"));
        assertEquals("cluster", option(w, "--deploy-mode"));
        assertEquals("2", option(w, "--num-executors"));
        Map<String, String> c = confs(w);
        assertEquals("registry.example/sdbatch:0.1.0", c.get("spark.kubernetes.container.image"));
        assertEquals("nvidia.com", c.get("spark.executor.resource.gpu.vendor"));
        assertEquals("1", c.get("spark.executor.resource.gpu.amount"));
        assertEquals("1", c.get("spark.task.resource.gpu.amount"));
        assertEquals(
                "/opt/sdbatch/gpu-discovery.sh",
                c.get("spark.executor.resource.gpu.discoveryScript"));
        assertTrue(
                c.get("spark.kubernetes.executor.podTemplateFile")
                        .endsWith("deploy/k8s/executor-pod-template.yaml"));
        assertEquals("***", c.get("spark.kubernetes.executor.secretKeyRef.AWS_SECRET_ACCESS_KEY"));
        assertTrue(w.contains("local:///opt/sdbatch/sdbatch-jobs.jar"));
        assertEquals("s3a://***@models/sd15/", option(jobArgs(w), "--model"));
    }

    @Test
    void k8sExecutorsUseTheNodeModelCacheThePodTemplateMounts() throws Exception {
        String template =
                Files.readString(DeployFiles.deployDir().resolve("k8s/executor-pod-template.yaml"));
        java.util.regex.Matcher mount =
                java.util.regex.Pattern.compile("- name: model-cache\\s+mountPath: (\\S+)")
                        .matcher(template);
        assertTrue(mount.find(), "the template mounts a model-cache volume:\n" + template);
        String mountPath = mount.group(1);
        assertTrue(template.contains("chmod 700 " + mountPath), "owner-only:\n" + template);

        String[] args = {
            "--master", "k8s://https://10.0.0.1:6443",
            "--image", "registry.example/sdbatch:0.1.0",
            "--model", "s3a://models/sd15/",
            "--input", "s3a://in/p.parquet",
            "--output", "s3a://out/r/"
        };
        Map<String, String> c = confs(dryRun("submit-k8s.sh", args));
        assertEquals(mountPath, c.get("spark.executorEnv.SDBATCH_MODEL_CACHE"));

        List<String> moved = new ArrayList<>(List.of(args));
        moved.addAll(List.of("--node-model-cache", "/mnt/nvme/sdbatch"));
        assertEquals(
                "/mnt/nvme/sdbatch",
                confs(dryRun("submit-k8s.sh", moved.toArray(String[]::new)))
                        .get("spark.executorEnv.SDBATCH_MODEL_CACHE"));
    }

    @Test
    void badFlagsExitTwoWithoutEchoingSecrets() throws Exception {
        DeployFiles.Run r =
                usageError(
                        "submit-k8s.sh",
                        "--input",
                        "a",
                        "--output",
                        "b",
                        "--master",
                        "k8s://https://h:1",
                        "--conf",
                        "spark.hadoop.fs.s3a.secret.key=" + SECRET);
        assertTrue(r.stderr().contains("--image is required"), r.stderr());
        assertFalse(r.stderr().contains(SECRET) || r.stdout().contains(SECRET));

        r =
                usageError(
                        "submit-yarn.sh",
                        "--input",
                        "a",
                        "--output",
                        "b",
                        "--num-executors",
                        "many");
        assertTrue(r.stderr().contains("--num-executors must be a positive integer, got 'many'"));
    }

    @TestFactory
    Stream<DynamicTest> everySubmitScriptHasHelp() throws Exception {
        return Stream.of(
                        "submit-local.sh",
                        "submit-standalone.sh",
                        "submit-yarn.sh",
                        "submit-k8s.sh")
                .map(
                        s ->
                                DynamicTest.dynamicTest(
                                        s,
                                        () -> {
                                            DeployFiles.Run r = DeployFiles.bash(s, ENV, "--help");
                                            assertEquals(0, r.exitCode(), r.stderr());
                                            assertTrue(
                                                    r.stdout().startsWith("Usage: " + s),
                                                    r.stdout());
                                            assertTrue(r.stdout().contains("--dry-run"));
                                            assertTrue(r.stdout().contains("--gpus-per-executor"));
                                        }));
    }

    @Test
    void gpuDiscoveryWithFakeGpusPrintsSparkResourceJson() throws Exception {
        DeployFiles.Run r = DeployFiles.bash("gpu-discovery.sh", Map.of("SDBATCH_FAKE_GPUS", "2"));
        assertEquals(0, r.exitCode(), r.stderr());
        JsonObject json = JsonParser.parseString(r.stdout()).getAsJsonObject();
        assertEquals("gpu", json.get("name").getAsString());
        JsonArray addresses = json.getAsJsonArray("addresses");
        assertEquals(2, addresses.size());
        assertEquals("0", addresses.get(0).getAsString());
        assertEquals("1", addresses.get(1).getAsString());

        r = DeployFiles.bash("gpu-discovery.sh", Map.of("SDBATCH_FAKE_GPUS", "two"));
        assertEquals(1, r.exitCode());
        assertEquals("", r.stdout());
    }

    @TestFactory
    Stream<DynamicTest> shellcheckPassesOnEveryScript() throws Exception {
        return DeployFiles.scripts().stream()
                .map(
                        script ->
                                DynamicTest.dynamicTest(
                                        DeployFiles.deployDir().relativize(script).toString(),
                                        () -> {
                                            Assumptions.assumeTrue(
                                                    onPath("shellcheck"),
                                                    "shellcheck is not on PATH (Debian/Ubuntu: apt-get install"
                                                            + " shellcheck); skipping");
                                            DeployFiles.Run r =
                                                    DeployFiles.run(
                                                            List.of(
                                                                    "shellcheck",
                                                                    "-x",
                                                                    "-P",
                                                                    "SCRIPTDIR",
                                                                    script.toString()),
                                                            Map.of());
                                            assertEquals(0, r.exitCode(), r.stdout() + r.stderr());
                                        }));
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
