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
 * <ul>
 *   <li>Cluster executors: cores = {@code spark.executor.cores} (unset: Spark's default, 1 on YARN
 *       and Kubernetes, the whole worker on standalone), never more than this JVM sees; tasks at
 *       once = cores / {@code spark.task.cpus}.
 *   <li>Local mode: the driver JVM is the executor and has the whole machine; {@code N} of {@code
 *       local[N]} is how many tasks run at once ({@code local[*]}: one per core), so {@code
 *       local[1]} gives its one task every core and {@code local[*]} one core per task.
 * </ul>
 *
 * Threads = cores / tasks at once (an uneven remainder goes to the tasks, not left idle), at least
 * 1. A local job with fewer rows than task slots leaves cores idle: give it {@code local[N]} with
 * fewer slots.
 */
final class TaskThreads {
    private static final Pattern LOCAL = Pattern.compile("local(?:\\[(\\*|[0-9]+)(?:,[0-9]+)?])?");

    private TaskThreads() {}

    /** Threads per task when {@code tasksAtOnce} tasks share {@code cores}. */
    static int perTask(int cores, int tasksAtOnce) {
        return Math.max(1, Math.max(1, cores) / Math.max(1, tasksAtOnce));
    }

    /**
     * Threads per task from the application's settings (see the class comment).
     *
     * @param master {@code spark.master}
     * @param executorCoresSetting {@code spark.executor.cores}, or null when unset
     * @param taskCpus {@code spark.task.cpus}
     * @param machineCores cores this JVM sees
     */
    static int perTask(String master, String executorCoresSetting, int taskCpus, int machineCores) {
        int cpus = Math.max(1, taskCpus);
        Matcher local = master == null ? null : LOCAL.matcher(master);
        if (local != null && local.matches()) {
            String slots = local.group(1);
            int tasks =
                    slots == null ? 1 : slots.equals("*") ? machineCores : Integer.parseInt(slots);
            return perTask(machineCores, Math.max(1, tasks / cpus));
        }
        int cores;
        if (executorCoresSetting != null && !executorCoresSetting.isBlank()) {
            try {
                cores = Math.max(1, Integer.parseInt(executorCoresSetting.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "spark.executor.cores '" + executorCoresSetting + "' is not an integer", e);
            }
        } else if (master != null && (master.startsWith("yarn") || master.startsWith("k8s://"))) {
            cores = 1;
        } else {
            cores = machineCores;
        }
        return perTask(Math.min(cores, machineCores), Math.max(1, cores / cpus));
    }

    /** Threads per task from a Spark configuration. */
    static int perTask(SparkConf conf, int machineCores) {
        return perTask(
                conf.get("spark.master", null),
                conf.get("spark.executor.cores", null),
                conf.getInt("spark.task.cpus", 1),
                machineCores);
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
