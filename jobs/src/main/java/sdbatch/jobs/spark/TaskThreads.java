package sdbatch.jobs.spark;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

/**
 * libtorch intra-op threads per task (the pipeline's {@code ComputeOptions.intraOpThreads}): the
 * executor's cores shared among the tasks it runs at once. Each libtorch call otherwise uses every
 * core of the machine, so an executor running four tasks on eight cores would run 32 threads on
 * eight cores, each task slower than alone.
 *
 * <p>Cores of the executor: {@code spark.executor.cores} when set; in local mode the {@code N} of
 * {@code local[N]} ({@code local[*]}: the machine's); unset on YARN and Kubernetes, Spark's default
 * of 1; unset elsewhere (standalone gives an executor all its worker's cores), the machine's. Tasks
 * at once: cores / {@code spark.task.cpus}. Threads: cores / tasks at once (the remainder of an
 * uneven split goes to the tasks, not left idle), never more than the machine has, at least 1.
 */
final class TaskThreads {
    private static final Pattern LOCAL = Pattern.compile("local\\[(\\*|[0-9]+)(,[0-9]+)?]");

    private TaskThreads() {}

    /**
     * Threads per task.
     *
     * @param executorCores cores the executor may use
     * @param taskCpus {@code spark.task.cpus}
     * @param machineCores cores this JVM sees
     */
    static int perTask(int executorCores, int taskCpus, int machineCores) {
        int cores = Math.max(1, Math.min(executorCores, machineCores));
        int tasksAtOnce = Math.max(1, executorCores / Math.max(1, taskCpus));
        return Math.max(1, cores / tasksAtOnce);
    }

    /** The executor's cores from the application's settings (see the class comment). */
    static int executorCores(String master, String executorCoresSetting, int machineCores) {
        if (executorCoresSetting != null && !executorCoresSetting.isBlank()) {
            try {
                return Math.max(1, Integer.parseInt(executorCoresSetting.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "spark.executor.cores '" + executorCoresSetting + "' is not an integer", e);
            }
        }
        if (master == null) {
            return machineCores;
        }
        if (master.equals("local")) {
            return 1;
        }
        Matcher m = LOCAL.matcher(master);
        if (m.matches()) {
            return m.group(1).equals("*")
                    ? machineCores
                    : Math.max(1, Integer.parseInt(m.group(1)));
        }
        if (master.startsWith("yarn") || master.startsWith("k8s://")) {
            return 1;
        }
        return machineCores;
    }

    /** Threads per task from a Spark configuration. */
    static int perTask(SparkConf conf, int machineCores) {
        int cores =
                executorCores(
                        conf.get("spark.master", null),
                        conf.get("spark.executor.cores", null),
                        machineCores);
        return perTask(cores, conf.getInt("spark.task.cpus", 1), machineCores);
    }

    /**
     * Threads per task of this executor (or of local mode's driver), or 0 (libtorch's default)
     * outside Spark.
     */
    static int forThisExecutor() {
        SparkEnv env = SparkEnv.get();
        if (env == null) {
            return 0;
        }
        return perTask(env.conf(), Runtime.getRuntime().availableProcessors());
    }
}
