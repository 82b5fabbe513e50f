package sdbatch.jobs.cli;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.jobs.spark.ModelSpec;
import sdbatch.jobs.storage.CacheFolder;
import sdbatch.pipeline.compute.CpuFeatures;
import sdbatch.pipeline.compute.NumericSelfCheck;

/**
 * {@code sdbatch doctor [--model-cache DIR]}: what this machine gives sdbatch, and whether it
 * computes correctly here. One line per check ({@code ok}, {@code FAIL} or {@code info}); exit 0
 * only when no check failed, else 2.
 *
 * <ul>
 *   <li>Java version (17 or later);
 *   <li>CPU vendor, model and the flags that decide libtorch's kernels (AVX2, AVX-512, BF16, AMX);
 *   <li>the libtorch DJL loaded (version, path) and the GPUs it sees;
 *   <li>s3a: Hadoop's S3A file system and the AWS SDK on the classpath;
 *   <li>the model cache folder: writable;
 *   <li>{@link NumericSelfCheck}: float32 kernels against float64, the bfloat16 modules'
 *       known-answer checks, and a tiny model's images in float32 (repeatable) and bf16 (within the
 *       documented distance).
 * </ul>
 */
public final class DoctorCommand implements Cli.Command {
    /** One line of the report. */
    record Check(String status, String name, String detail) {
        static Check of(boolean ok, String name, String detail) {
            return new Check(ok ? "ok" : "FAIL", name, detail);
        }
    }

    @Override
    public ExitCode run(JobOptions options, PrintStream out, PrintStream err) {
        long start = System.nanoTime();
        List<Check> checks = new ArrayList<>();
        int java = Runtime.version().feature();
        checks.add(Check.of(java >= 17, "java", Runtime.version() + " (" + javaHome() + ")"));
        CpuFeatures cpu = CpuFeatures.current();
        checks.add(new Check(cpu.known() ? "info" : "FAIL", "cpu", cpu.describe()));
        try {
            checks.add(new Check("info", "libtorch", NumericSelfCheck.libtorch()));
        } catch (RuntimeException | LinkageError e) {
            checks.add(Check.of(false, "libtorch", "could not load: " + e));
        }
        checks.add(s3a());
        Path cache = cacheRoot(options);
        checks.add(modelCache(cache));
        if (checks.stream()
                .noneMatch(c -> c.name().equals("libtorch") && c.status().equals("FAIL"))) {
            for (NumericSelfCheck.Result r : NumericSelfCheck.run(cache)) {
                checks.add(Check.of(r.ok(), r.name(), r.detail()));
            }
        }
        boolean ok = true;
        for (Check c : checks) {
            out.printf("%-4s %-16s %s%n", c.status(), c.name(), c.detail());
            ok &= !c.status().equals("FAIL");
        }
        out.printf(
                "%s (%.1f s)%n",
                ok ? "all checks passed" : "some checks FAILED", (System.nanoTime() - start) / 1e9);
        return ok ? ExitCode.OK : ExitCode.CANNOT_START;
    }

    private static String javaHome() {
        return System.getProperty("java.vendor") + ", " + System.getProperty("java.home");
    }

    /** Whether s3a URIs can work here: Hadoop's S3A file system and the AWS SDK it calls. */
    static Check s3a() {
        List<String> missing = new ArrayList<>();
        for (String c :
                List.of(
                        "org.apache.hadoop.fs.s3a.S3AFileSystem",
                        "software.amazon.awssdk.services.s3.S3Client")) {
            try {
                Class.forName(c, false, DoctorCommand.class.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                missing.add(c);
            }
        }
        return Check.of(
                missing.isEmpty(),
                "s3a",
                missing.isEmpty()
                        ? "S3AFileSystem and the AWS SDK are on the classpath"
                        : "missing " + String.join(", ", missing));
    }

    /** {@code --model-cache}, or the default root as the job would pick it in this JVM. */
    static Path cacheRoot(JobOptions options) {
        return ModelSpec.cacheRoot(options.modelCache(), System.getenv(), System.getProperties());
    }

    static Check modelCache(Path root) {
        try {
            CacheFolder.secure(root);
            Path probe = Files.createTempFile(root, ".doctor-", ".tmp");
            Files.delete(probe);
            long free = Files.getFileStore(root).getUsableSpace();
            return Check.of(true, "model cache", root + " writable, " + (free >> 30) + " GiB free");
        } catch (Exception e) {
            return Check.of(false, "model cache", root + " not writable: " + e);
        }
    }
}
