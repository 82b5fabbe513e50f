package sdbatch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every cluster path budgets libtorch's native memory: {@code spark.executor.memoryOverhead} is set
 * by the YARN and Kubernetes scripts (overridable), the SparkApplication and the defaults example.
 */
class NativeMemoryDeployTest {
    static final String OVERHEAD = "spark.executor.memoryOverhead";

    /** The overhead submit-yarn.sh sets for {@code --input a --output b FLAGS...}. */
    private static String yarnOverhead(String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("--input", "a", "--output", "b"));
        args.addAll(List.of(flags));
        List<String> words =
                DeployScriptsTest.dryRun("submit-yarn.sh", args.toArray(String[]::new));
        return DeployScriptsTest.confs(words).get(OVERHEAD);
    }

    @Test
    void yarnAndKubernetesScriptsSetTheOverheadAndTheFlagChangesIt() throws Exception {
        assertEquals("8g", yarnOverhead());
        List<String> k8s =
                DeployScriptsTest.dryRun(
                        "submit-k8s.sh",
                        "--master",
                        "k8s://https://api:6443",
                        "--image",
                        "img",
                        "--input",
                        "a",
                        "--output",
                        "b");
        assertEquals("8g", DeployScriptsTest.confs(k8s).get(OVERHEAD));
        assertEquals("12g", yarnOverhead("--executor-memory-overhead", "12g"));
        // A --conf given by the user comes after the default: spark-submit's last one wins.
        assertEquals("6144m", yarnOverhead("--conf", OVERHEAD + "=6144m"));
    }

    @Test
    void localModeSetsNoOverheadAndBadSizesAreRefused() throws Exception {
        List<String> local =
                DeployScriptsTest.dryRun("submit-local.sh", "--input", "a", "--output", "b");
        assertFalse(DeployScriptsTest.confs(local).containsKey(OVERHEAD));
        DeployFiles.Run r =
                DeployFiles.bash(
                        "submit-yarn.sh",
                        DeployScriptsTest.ENV,
                        "--dry-run",
                        "--input",
                        "a",
                        "--output",
                        "b",
                        "--executor-memory-overhead",
                        "lots");
        assertEquals(2, r.exitCode());
        assertTrue(r.stderr().contains("--executor-memory-overhead"), r.stderr());
        assertTrue(r.stderr().contains("'lots'"), r.stderr());
    }

    @Test
    void sparkApplicationAndDefaultsExampleBudgetNativeMemory() throws Exception {
        Map<String, Object> app =
                DeployConfigTest.yaml(DeployConfigTest.k8s().resolve("sparkapplication.yaml"));
        assertEquals("8g", DeployConfigTest.at(app, "spec", "executor", "memoryOverhead"));
        String defaults =
                Files.readString(DeployFiles.deployDir().resolve("spark-defaults.conf.example"));
        assertTrue(
                defaults.lines()
                        .anyMatch(
                                l -> l.matches(java.util.regex.Pattern.quote(OVERHEAD) + "\\s+8g")),
                "spark-defaults.conf.example sets " + OVERHEAD);
    }
}
