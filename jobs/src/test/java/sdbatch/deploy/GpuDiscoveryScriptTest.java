package sdbatch.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gpu-discovery.sh} against a fake {@code nvidia-smi} on PATH: the addresses it reports are
 * CUDA ordinals in the visible order whatever {@code CUDA_VISIBLE_DEVICES} or the container's
 * device list does to nvidia-smi's indexes.
 */
class GpuDiscoveryScriptTest {
    /** Four host GPUs, as nvidia-smi lists them (it ignores CUDA_VISIBLE_DEVICES). */
    static final String FOUR_GPUS =
            "0, GPU-aaaa1111;1, GPU-bbbb2222;2, GPU-cccc3333;3, GPU-dddd4444";

    @TempDir Path bin;

    @BeforeEach
    void fakeNvidiaSmi() throws Exception {
        // Answers both the index-only query and the index,uuid one, so the test judges what the
        // script does with the answer, not which query it makes.
        Path smi = bin.resolve("nvidia-smi");
        Files.writeString(
                smi,
                String.join(
                        "\n",
                        "#!/usr/bin/env bash",
                        "IFS=';' read -r -a gpus <<<\"$FAKE_SMI_LINES\"",
                        "for g in \"${gpus[@]}\"; do",
                        "  case \"$*\" in",
                        "    '--query-gpu=index,uuid --format=csv,noheader') echo \"$g\" ;;",
                        "    '--query-gpu=index --format=csv,noheader') echo \"${g%%,*}\" ;;",
                        "    *) echo \"fake nvidia-smi: unexpected arguments: $*\" >&2; exit 9 ;;",
                        "  esac",
                        "done",
                        ""),
                StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(smi, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    record Discovery(int exitCode, List<String> addresses, String stderr) {}

    /** Runs the script with the fake nvidia-smi first on PATH; null visible = variable unset. */
    Discovery discover(String smiLines, String cudaVisibleDevices) throws Exception {
        ProcessBuilder pb =
                new ProcessBuilder(
                        "bash", DeployFiles.deployDir().resolve("gpu-discovery.sh").toString());
        pb.environment().remove("SDBATCH_FAKE_GPUS");
        pb.environment().remove("CUDA_VISIBLE_DEVICES");
        if (cudaVisibleDevices != null) {
            pb.environment().put("CUDA_VISIBLE_DEVICES", cudaVisibleDevices);
        }
        pb.environment().put("FAKE_SMI_LINES", smiLines);
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Path out = Files.createTempFile(bin, "out", ".txt");
        Path err = Files.createTempFile(bin, "err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "gpu-discovery.sh timed out");
        String stdout = Files.readString(out);
        String stderr = Files.readString(err);
        List<String> addresses = new ArrayList<>();
        if (p.exitValue() == 0) {
            JsonObject json = JsonParser.parseString(stdout).getAsJsonObject();
            assertEquals("gpu", json.get("name").getAsString());
            JsonArray a = json.getAsJsonArray("addresses");
            a.forEach(e -> addresses.add(e.getAsString()));
        }
        return new Discovery(p.exitValue(), addresses, stderr);
    }

    @Test
    void allGpusVisibleGivesOrdinalsZeroToN() throws Exception {
        Discovery d = discover(FOUR_GPUS, null);
        assertEquals(0, d.exitCode(), d.stderr());
        assertEquals(List.of("0", "1", "2", "3"), d.addresses());
    }

    @Test
    void cudaVisibleDevicesByIndexRenumbersFromZero() throws Exception {
        // CUDA in this process sees host GPUs 2 and 3 as cuda:0 and cuda:1.
        Discovery d = discover(FOUR_GPUS, "2,3");
        assertEquals(0, d.exitCode(), d.stderr());
        assertEquals(List.of("0", "1"), d.addresses());
        assertTrue(d.stderr().contains("CUDA ordinal 0 = nvidia-smi index 2"), d.stderr());
        assertTrue(d.stderr().contains("CUDA ordinal 1 = nvidia-smi index 3"), d.stderr());
    }

    @Test
    void cudaVisibleDevicesByUuidKeepsItsOrder() throws Exception {
        Discovery d = discover(FOUR_GPUS, "GPU-dddd4444,bbbb");
        assertEquals(0, d.exitCode(), d.stderr());
        assertEquals(List.of("0", "1"), d.addresses());
        assertTrue(d.stderr().contains("CUDA ordinal 0 = nvidia-smi index 3"), d.stderr());
        assertTrue(d.stderr().contains("CUDA ordinal 1 = nvidia-smi index 1"), d.stderr());
    }

    @Test
    void cudaStopsAtTheFirstEntryNamingNoGpu() throws Exception {
        Discovery d = discover(FOUR_GPUS, "1,7,2");
        assertEquals(0, d.exitCode(), d.stderr());
        assertEquals(List.of("0"), d.addresses());
        assertTrue(d.stderr().contains("'7'"), d.stderr());

        d = discover(FOUR_GPUS, "");
        assertEquals(0, d.exitCode(), d.stderr());
        assertEquals(List.of(), d.addresses());
    }

    @Test
    void containerWithHostGpusTwoAndThreeStillUsesOrdinalsZeroAndOne() throws Exception {
        // A device plugin or cgroups hand the container host GPUs 2 and 3; nvidia-smi may show
        // their host indexes, CUDA numbers them 0 and 1.
        Discovery d = discover("2, GPU-cccc3333;3, GPU-dddd4444", null);
        assertEquals(0, d.exitCode(), d.stderr());
        assertEquals(List.of("0", "1"), d.addresses());
    }

    @Test
    void malformedNvidiaSmiOutputFailsWithTheLine() throws Exception {
        Discovery d = discover("0, GPU-aaaa;oops", null);
        assertEquals(1, d.exitCode());
        assertTrue(d.stderr().contains("oops"), d.stderr());
    }
}
