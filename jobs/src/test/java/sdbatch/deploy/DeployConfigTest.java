package sdbatch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** deploy/k8s YAML, spark-defaults.conf.example and the Dockerfile's key facts. */
class DeployConfigTest {

    static Path k8s() {
        return DeployFiles.deployDir().resolve("k8s");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> yaml(Path file) throws IOException {
        try (Reader r = Files.newBufferedReader(file)) {
            return (Map<String, Object>) new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        }
    }

    @SuppressWarnings("unchecked")
    static <T> T at(Object node, Object... path) {
        Object cur = node;
        for (Object key : path) {
            assertNotNull(cur, "missing before " + key);
            cur =
                    key instanceof Integer i
                            ? ((List<Object>) cur).get(i)
                            : ((Map<String, Object>) cur).get(key);
        }
        return (T) cur;
    }

    @TestFactory
    Stream<DynamicTest> everyYamlParses() throws IOException {
        try (Stream<Path> s = Files.list(k8s())) {
            List<Path> files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
            assertFalse(files.isEmpty());
            return files.stream()
                    .map(
                            f ->
                                    DynamicTest.dynamicTest(
                                            f.getFileName().toString(),
                                            () -> {
                                                Map<String, Object> doc = yaml(f);
                                                assertNotNull(doc.get("apiVersion"), "apiVersion");
                                                assertNotNull(doc.get("kind"), "kind");
                                            }));
        }
    }

    @Test
    void executorPodTemplateRequestsOneNvidiaGpu() throws IOException {
        Map<String, Object> pod = yaml(k8s().resolve("executor-pod-template.yaml"));
        assertEquals("v1", pod.get("apiVersion"));
        assertEquals("Pod", pod.get("kind"));
        Map<String, Object> resources = at(pod, "spec", "containers", 0, "resources");
        assertEquals(1, (Integer) at(resources, "requests", "nvidia.com/gpu"));
        assertEquals(1, (Integer) at(resources, "limits", "nvidia.com/gpu"));
        List<Map<String, Object>> tolerations = at(pod, "spec", "tolerations");
        assertTrue(tolerations.stream().anyMatch(t -> "nvidia.com/gpu".equals(t.get("key"))));
    }

    @Test
    void sparkApplicationRunsTheJobOnGpus() throws IOException {
        Map<String, Object> app = yaml(k8s().resolve("sparkapplication.yaml"));
        assertEquals("sparkoperator.k8s.io/v1beta2", app.get("apiVersion"));
        assertEquals("SparkApplication", app.get("kind"));
        Map<String, Object> spec = at(app, "spec");
        assertEquals("Java", spec.get("type"));
        assertEquals("sdbatch.jobs.cli.Cli", spec.get("mainClass"));
        assertEquals("local:///opt/sdbatch/sdbatch-jobs.jar", spec.get("mainApplicationFile"));
        List<String> args = at(spec, "arguments");
        assertEquals("generate", args.get(0));
        assertTrue(args.containsAll(List.of("--model", "--input", "--output")));
        assertEquals("nvidia.com/gpu", at(spec, "executor", "gpu", "name"));
        assertEquals(1, (Integer) at(spec, "executor", "gpu", "quantity"));
        Map<String, Object> conf = at(spec, "sparkConf");
        assertEquals("1", conf.get("spark.executor.resource.gpu.amount"));
        assertEquals("1", conf.get("spark.task.resource.gpu.amount"));
        assertEquals("nvidia.com", conf.get("spark.executor.resource.gpu.vendor"));
        assertEquals("magic", conf.get("spark.hadoop.fs.s3a.committer.name"));
        for (String k : conf.keySet()) {
            assertFalse(
                    k.matches("(?i).*(secret|access\\.key|password|token).*"),
                    "credentials belong in a Kubernetes secret, not sparkConf: " + k);
        }
    }

    @Test
    void sparkDefaultsExampleSetsS3aAndTheMagicCommitter() throws IOException {
        Map<String, String> conf = new LinkedHashMap<>();
        for (String line :
                Files.readAllLines(
                        DeployFiles.deployDir().resolve("spark-defaults.conf.example"))) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            String[] kv = t.split("\\s+", 2);
            conf.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
        assertEquals("true", conf.get("spark.hadoop.fs.s3a.path.style.access"));
        assertNotNull(conf.get("spark.hadoop.fs.s3a.endpoint"));
        assertTrue(
                conf.get("spark.hadoop.fs.s3a.aws.credentials.provider")
                        .contains("EnvironmentVariableCredentialsProvider"));
        assertEquals("magic", conf.get("spark.hadoop.fs.s3a.committer.name"));
        assertEquals(
                "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
                conf.get("spark.sql.sources.commitProtocolClass"));
        assertEquals(
                "org.apache.spark.internal.io.cloud.BindingParquetOutputCommitter",
                conf.get("spark.sql.parquet.output.committer.class"));
        assertFalse(
                conf.containsKey("spark.hadoop.fs.s3a.secret.key"),
                "no credentials in the example");
        assertFalse(
                conf.containsKey("spark.hadoop.fs.s3a.access.key"),
                "no credentials in the example");
    }

    @Test
    void dockerfilePreloadsCudaNativesAndRunsOffline() throws IOException {
        String df = Files.readString(DeployFiles.deployDir().resolve("Dockerfile"));
        assertTrue(df.contains("FROM ${CUDA_IMAGE}") && df.contains("nvidia/cuda:"), "CUDA base");
        assertTrue(df.contains("openjdk-17-jre-headless"), "JRE 17");
        assertTrue(df.contains("PYTORCH_FLAVOR=cu128"), "flavor documented and set");
        assertTrue(df.contains("DJL_OFFLINE=true"), "offline");
        assertTrue(df.contains("PYTORCH_LIBRARY_PATH="), "pre-loaded natives are used");
        assertTrue(df.contains("/opt/sdbatch/sdbatch-jobs.jar"), "the jar");
        assertTrue(df.contains("/opt/sdbatch/gpu-discovery.sh"), "the discovery script");
    }

    /** The Dockerfile's RUN instructions, continuation lines joined. */
    static List<String> runInstructions(String dockerfile) {
        List<String> runs = new java.util.ArrayList<>();
        StringBuilder current = null;
        for (String line : dockerfile.split("\n")) {
            String trimmed = line.strip();
            if (current == null && trimmed.startsWith("RUN ")) {
                current = new StringBuilder();
            }
            if (current != null && !trimmed.startsWith("#")) {
                current.append(
                                trimmed.endsWith("\\")
                                        ? trimmed.substring(0, trimmed.length() - 1)
                                        : trimmed)
                        .append(' ');
                if (!trimmed.endsWith("\\")) {
                    runs.add(current.toString());
                    current = null;
                }
            }
        }
        return runs;
    }

    static String dockerArg(String dockerfile, String name) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("(?m)^ARG " + name + "=(\\S+)$")
                        .matcher(dockerfile);
        assertTrue(m.find(), "ARG " + name + " in the Dockerfile");
        return m.group(1);
    }

    @Test
    void everyDownloadInTheDockerfileIsCheckedAgainstAPinnedChecksum() throws IOException {
        String df = Files.readString(DeployFiles.deployDir().resolve("Dockerfile"));
        List<String> downloads =
                runInstructions(df).stream().filter(r -> r.contains("curl -")).toList();
        assertEquals(2, downloads.size(), "the natives and the cloud jars: " + downloads);
        for (String run : downloads) {
            assertTrue(
                    run.contains("sha256sum -c --strict"),
                    "a RUN that downloads verifies what it downloaded: " + run);
        }
        assertTrue(
                df.contains("ALLOW_UNPINNED_NATIVES=0"), "unpinned natives are refused by default");
    }

    @Test
    void pinnedCloudJarChecksumsNameTheDockerfileVersionsAndMatchTheJarsMavenResolved()
            throws Exception {
        Path deploy = DeployFiles.deployDir();
        String df = Files.readString(deploy.resolve("Dockerfile"));
        Map<String, String> pinned = new LinkedHashMap<>();
        for (String line : Files.readAllLines(deploy.resolve("checksums/cloud-jars.sha256"))) {
            if (!line.isBlank()) {
                assertTrue(line.matches("[0-9a-f]{64}  \\S+\\.jar"), "sha256sum format: " + line);
                pinned.put(line.substring(66), line.substring(0, 64));
            }
        }
        String hadoop = dockerArg(df, "HADOOP_VERSION");
        String awsSdk = dockerArg(df, "AWS_SDK_VERSION");
        String spark = dockerArg(df, "SPARK_VERSION");
        String pom = Files.readString(deploy.getParent().resolve("pom.xml"));
        assertTrue(
                pom.contains("<hadoop.version>" + hadoop + "</hadoop.version>"),
                "the image's hadoop-aws is the build's Hadoop version " + hadoop);
        assertEquals(
                List.of(
                        "hadoop-aws-" + hadoop + ".jar",
                        "bundle-" + awsSdk + ".jar",
                        "spark-hadoop-cloud_2.13-" + spark + ".jar"),
                List.copyOf(pinned.keySet()));
        // hadoop-aws and the SDK bundle are this module's provided dependencies: the jars Maven
        // resolved (and checked against Central's own checksums) must be the ones pinned.
        for (Class<?> inJar :
                List.of(
                        Class.forName("org.apache.hadoop.fs.s3a.S3AFileSystem"),
                        Class.forName("software.amazon.awssdk.services.s3.S3Client"))) {
            Path jar = Path.of(inJar.getProtectionDomain().getCodeSource().getLocation().toURI());
            String name = jar.getFileName().toString();
            assertTrue(pinned.containsKey(name), name + " is pinned");
            assertEquals(pinned.get(name), sdbatch.schemas.util.Hashes.sha256Hex(jar), name);
        }
    }
}
