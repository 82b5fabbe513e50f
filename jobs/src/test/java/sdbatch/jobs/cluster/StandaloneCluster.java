package sdbatch.jobs.cluster;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.launcher.JavaModuleOptions;

/**
 * A Spark standalone cluster on loopback, started from the Spark jars on the test classpath: one
 * {@code org.apache.spark.deploy.master.Master} and one {@code
 * org.apache.spark.deploy.worker.Worker}, each its own JVM, bound to 127.0.0.1 on free ports, with
 * logs and the worker's work dir under a given folder.
 *
 * <p><b>GPUs without GPUs.</b> The worker owns {@code gpus} fake GPU addresses "0".."gpus-1":
 * {@code spark.worker.resource.gpu.amount} plus {@code spark.worker.resource.gpu.discoveryScript} =
 * the repository's {@code deploy/gpu-discovery.sh} with {@code SDBATCH_FAKE_GPUS}. The worker hands
 * each executor its share of the addresses (a resources file on the executor's command line), so an
 * application asking for {@code spark.executor.resource.gpu.amount=1} and {@code
 * spark.task.resource.gpu.amount=1} sees real Spark resource scheduling: each task gets the address
 * of its executor in {@code TaskContext.resources()}.
 *
 * <p><b>Spark home.</b> The worker builds each executor's command with Spark's launcher, which
 * wants {@code $SPARK_HOME/jars} and a Scala version; this harness gives it an empty {@code
 * spark-home/jars} and {@code SPARK_SCALA_VERSION}, and applications pass the test classpath as
 * {@code spark.executor.extraClassPath} ({@link #applicationConf}).
 *
 * <p>Every process this class starts (master, worker, the executors the worker launched, JVMs from
 * {@link #startJvm}) is ended by {@link #close}: SIGTERM, then SIGKILL after a grace period.
 */
final class StandaloneCluster implements AutoCloseable {
    /** The executor's main class; its processes are how tests find executors. */
    static final String EXECUTOR_MAIN = "org.apache.spark.executor.CoarseGrainedExecutorBackend";

    private static final String LOOPBACK = "127.0.0.1";
    private static final Pattern EXECUTOR_ID = Pattern.compile("--executor-id (\\S+)");
    private static final Duration GRACE = Duration.ofSeconds(10);

    /**
     * JVM flags for every process of the cluster: short-lived JVMs on few cores start and run
     * faster with the client compiler only and the serial collector (no compiler or GC threads
     * competing for the cores the test shares).
     */
    static final List<String> QUICK_JVM = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private final Path dir;
    private final int masterPort;
    private final int masterUiPort;
    private final Path workDir;
    private final Path sparkHome;
    private final List<Process> processes = new ArrayList<>();

    /** Ends the processes if the test JVM is stopped (not killed) before {@link #close}. */
    private final Thread shutdownHook = new Thread(this::stopAll, "standalone-cluster-stop");

    private Process master;
    private Process worker;

    private StandaloneCluster(Path dir) throws IOException {
        this.dir = dir;
        this.masterPort = freePort();
        this.masterUiPort = freePort();
        this.workDir = Files.createDirectories(dir.resolve("work"));
        this.sparkHome = dir.resolve("spark-home");
        Files.createDirectories(sparkHome.resolve("jars"));
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /**
     * Starts a master and one worker and waits until the worker has registered with all its cores
     * and fake GPUs.
     *
     * @param dir logs ({@code master.log}, {@code worker.log}), the work dir and the Spark home go
     *     here
     * @param cores the worker's cores
     * @param gpus fake GPU addresses the worker owns
     * @param timeout how long to wait for the registration
     */
    static StandaloneCluster start(Path dir, int cores, int gpus, Duration timeout)
            throws IOException, InterruptedException {
        StandaloneCluster cluster = new StandaloneCluster(dir);
        try {
            cluster.startDaemons(cores, gpus, timeout);
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
    }

    private void startDaemons(int cores, int gpus, Duration timeout)
            throws IOException, InterruptedException {
        // maxRetries 0: a port taken between freePort() and the bind fails loudly instead of
        // silently moving to the next port, which the URL here would not know.
        master =
                startJvm(
                        "master",
                        List.of("-Xmx256m", "-Dspark.port.maxRetries=0"),
                        "org.apache.spark.deploy.master.Master",
                        List.of(
                                "--host",
                                LOOPBACK,
                                "--port",
                                Integer.toString(masterPort),
                                "--webui-port",
                                Integer.toString(masterUiPort)),
                        Map.of());
        Path script = discoveryScript();
        worker =
                startJvm(
                        "worker",
                        List.of(
                                "-Xmx256m",
                                "-Dspark.port.maxRetries=0",
                                "-Dspark.worker.resource.gpu.amount=" + gpus,
                                "-Dspark.worker.resource.gpu.discoveryScript=" + script),
                        "org.apache.spark.deploy.worker.Worker",
                        List.of(
                                "--host",
                                LOOPBACK,
                                "--port",
                                Integer.toString(freePort()),
                                "--webui-port",
                                Integer.toString(freePort()),
                                "--cores",
                                Integer.toString(cores),
                                "--memory",
                                "4g",
                                "--work-dir",
                                workDir.toString(),
                                masterUrl()),
                        Map.of("SDBATCH_FAKE_GPUS", Integer.toString(gpus)));
        awaitTrue(
                timeout,
                () -> workerRegistered(cores, gpus),
                "a worker with "
                        + cores
                        + " cores and "
                        + gpus
                        + " GPUs registered at "
                        + masterUrl());
    }

    /** {@code spark://127.0.0.1:<port>}. */
    String masterUrl() {
        return "spark://" + LOOPBACK + ":" + masterPort;
    }

    /** The worker's work dir: one folder per application, one per executor (its stdout/stderr). */
    Path workDir() {
        return workDir;
    }

    /**
     * Spark settings an application on this cluster needs: driver on loopback, executors with the
     * test classpath (the test's and sdbatch's classes; Spark's own are in it too), offline DJL
     * with one intra-op thread per executor core, {@code executorCores} cores and {@code
     * executorGpus} GPUs each, at most {@code maxCores} in all, and one GPU per task.
     */
    static Map<String, String> applicationConf(int maxCores, int executorCores, int executorGpus) {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("spark.driver.host", LOOPBACK);
        conf.put("spark.driver.bindAddress", LOOPBACK);
        conf.put("spark.ui.enabled", "false");
        conf.put("spark.cores.max", Integer.toString(maxCores));
        conf.put("spark.executor.cores", Integer.toString(executorCores));
        conf.put("spark.executor.memory", "768m");
        conf.put("spark.executor.extraClassPath", classPath());
        // SparkContext adds Spark's module options to executors itself; these are ours.
        conf.put(
                "spark.executor.extraJavaOptions",
                String.join(" ", QUICK_JVM)
                        + " -Dai.djl.offline=true"
                        + " -Dai.djl.pytorch.num_threads="
                        + executorCores
                        + " -Dai.djl.pytorch.num_interop_threads=1");
        conf.put("spark.executor.resource.gpu.amount", Integer.toString(executorGpus));
        conf.put("spark.task.resource.gpu.amount", "1");
        return conf;
    }

    /**
     * Starts a JVM on the test classpath with Spark's module options, {@code SPARK_LOCAL_IP} =
     * loopback and stdout+stderr into {@code <dir>/<name>.log}; {@link #close} ends it.
     */
    Process startJvm(
            String name,
            List<String> jvmOptions,
            String mainClass,
            List<String> args,
            Map<String, String> env)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
        command.addAll(QUICK_JVM);
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath());
        command.add(mainClass);
        command.addAll(args);
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile());
        builder.environment().put("SPARK_LOCAL_IP", LOOPBACK);
        // A developer's Spark installation must not leak its conf or jars in.
        builder.environment().remove("SPARK_CONF_DIR");
        builder.environment().remove("SPARK_CLASSPATH");
        builder.environment().remove("SPARK_DIST_CLASSPATH");
        builder.environment().put("SPARK_HOME", sparkHome.toString());
        builder.environment().put("SPARK_SCALA_VERSION", scalaBinaryVersion());
        builder.environment().putAll(env);
        builder.redirectErrorStream(true);
        builder.redirectOutput(log(name).toFile());
        Process process = builder.start();
        synchronized (processes) {
            processes.add(process);
        }
        return process;
    }

    /** The log file of a process started by {@link #startJvm}. */
    Path log(String name) {
        return dir.resolve(name + ".log");
    }

    /** The whole text of a log. */
    String logText(String name) throws IOException {
        return Files.readString(log(name), StandardCharsets.UTF_8);
    }

    /** The last {@code lines} lines of a log, for failure messages. */
    String tail(String name, int lines) {
        try {
            List<String> all = Files.readAllLines(log(name), StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no " + name + " log: " + e + ")";
        }
    }

    /** Master and worker log tails. */
    String daemonLogs() {
        return "--- master.log ---\n"
                + tail("master", 30)
                + "\n--- worker.log ---\n"
                + tail("worker", 40);
    }

    /** The executor JVMs the worker is running now. */
    List<ProcessHandle> executors() {
        if (worker == null) {
            return List.of();
        }
        return worker.descendants().filter(p -> commandLine(p).contains(EXECUTOR_MAIN)).toList();
    }

    /** Master's JSON state ({@code /json} on its UI port). */
    JsonObject masterState() throws IOException, InterruptedException {
        return getJson(masterUiPort, "/json/").getAsJsonObject();
    }

    /** GETs {@code http://127.0.0.1:<port><path>} and parses the JSON answer. */
    static JsonElement getJson(int port, String path) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpResponse<String> response =
                client.send(
                        HttpRequest.newBuilder(URI.create("http://" + LOOPBACK + ":" + port + path))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException(path + " answered " + response.statusCode());
        }
        return JsonParser.parseString(response.body());
    }

    /** The executor process with Spark executor id {@code id}, if the worker is running it. */
    Optional<ProcessHandle> executor(String id) {
        return executors().stream().filter(p -> id.equals(executorId(p))).findFirst();
    }

    /** The Spark executor id of an executor process ({@code --executor-id}), null if none. */
    static String executorId(ProcessHandle executor) {
        Matcher m = EXECUTOR_ID.matcher(commandLine(executor));
        return m.find() ? m.group(1) : null;
    }

    private boolean workerRegistered(int cores, int gpus) {
        if (!master.isAlive() || !worker.isAlive()) {
            throw new IllegalStateException(
                    (master.isAlive() ? "worker" : "master")
                            + " exited during startup\n"
                            + daemonLogs());
        }
        JsonObject state;
        try {
            state = masterState();
        } catch (IOException e) {
            return false; // UI not up yet
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        for (JsonElement w : state.getAsJsonArray("workers")) {
            JsonObject info = w.getAsJsonObject();
            if (!"ALIVE".equals(info.get("state").getAsString())
                    || info.get("cores").getAsInt() != cores) {
                continue;
            }
            JsonObject resources = info.getAsJsonObject("resources");
            JsonObject gpu = resources == null ? null : resources.getAsJsonObject("gpu");
            JsonArray addresses = gpu == null ? null : gpu.getAsJsonArray("addresses");
            if (gpus == 0 || (addresses != null && addresses.size() == gpus)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Polls {@code condition} every 100 ms until it holds or {@code timeout} passes; then fails
     * naming {@code what}, with the daemon logs and the tails of {@code logs} (names given to
     * {@link #startJvm}).
     */
    void awaitTrue(Duration timeout, BooleanSupplier condition, String what, String... logs)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                StringBuilder message =
                        new StringBuilder("timed out after ")
                                .append(timeout)
                                .append(" waiting for ")
                                .append(what)
                                .append('\n')
                                .append(daemonLogs());
                for (String log : logs) {
                    message.append("\n--- ").append(log).append(".log ---\n").append(tail(log, 60));
                }
                throw new IllegalStateException(message.toString());
            }
            Thread.sleep(100);
        }
    }

    /**
     * Ends every process this cluster started, children first: the JVMs from {@link #startJvm}
     * (driver, worker, master, in reverse start order) after the worker's executors.
     */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // The JVM is shutting down: the hook runs stopAll itself.
        }
        stopAll();
    }

    private void stopAll() {
        List<ProcessHandle> handles = new ArrayList<>();
        if (worker != null) {
            worker.descendants().forEach(handles::add);
        }
        synchronized (processes) {
            for (int i = processes.size() - 1; i >= 0; i--) {
                Process p = processes.get(i);
                p.descendants().forEach(handles::add);
                handles.add(p.toHandle());
            }
        }
        for (ProcessHandle h : handles) {
            h.destroy();
        }
        long deadline = System.nanoTime() + GRACE.toNanos();
        for (ProcessHandle h : handles) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    h.onExit().get(left, TimeUnit.NANOSECONDS);
                }
            } catch (Exception e) {
                // Still alive (or interrupted): killed below.
            }
            if (h.isAlive()) {
                h.destroyForcibly();
            }
        }
    }

    /** The test JVM's classpath (surefire's real one when it uses a manifest-only jar). */
    static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank()
                ? surefire
                : System.getProperty("java.class.path");
    }

    /** The repository's {@code deploy/gpu-discovery.sh}, found upwards from the working dir. */
    static Path discoveryScript() {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path p = cwd; p != null; p = p.getParent()) {
            Path script = p.resolve("deploy").resolve("gpu-discovery.sh");
            if (Files.isRegularFile(script)) {
                if (!Files.isExecutable(script)) {
                    throw new IllegalStateException(script + " is not executable");
                }
                return script;
            }
        }
        throw new IllegalStateException("no deploy/gpu-discovery.sh above " + cwd);
    }

    /** The full command line of a process ({@code /proc} first: Java's view may be cut short). */
    static String commandLine(ProcessHandle p) {
        Path proc = Path.of("/proc", Long.toString(p.pid()), "cmdline");
        try {
            if (Files.isReadable(proc)) {
                return new String(Files.readAllBytes(proc), StandardCharsets.UTF_8)
                        .replace('\0', ' ');
            }
        } catch (IOException e) {
            // Gone already, or not Linux: fall through.
        }
        Optional<String> line = p.info().commandLine();
        return line.orElse("");
    }

    /** Scala's binary version, from the Spark jar's name on the classpath (e.g. 2.13). */
    private static String scalaBinaryVersion() {
        for (String entry : classPath().split(File.pathSeparator)) {
            String name = Path.of(entry).getFileName().toString();
            if (name.startsWith("spark-core_") && name.endsWith(".jar")) {
                return name.substring(
                        "spark-core_".length(), name.indexOf('-', "spark-core_".length()));
            }
        }
        throw new IllegalStateException("no spark-core_<scala>.jar on the classpath");
    }

    /** A free loopback port (free when asked; bind it soon). */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(LOOPBACK))) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
