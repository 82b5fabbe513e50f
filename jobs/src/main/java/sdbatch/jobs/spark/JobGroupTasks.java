package sdbatch.jobs.spark;

import java.time.Duration;
import org.apache.spark.SparkJobInfo;
import org.apache.spark.SparkStageInfo;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Waits for the tasks of a job group to end after its job failed or was cancelled. Spark fails the
 * job (and the driver's write throws) as soon as it decides to, while the group's running tasks are
 * still being killed: a task that is still running may yet write its attempt folder into the
 * staging folder the driver is about to delete, leaving a staging folder behind after the delete.
 * Cleaning up only after the tasks ended closes that window.
 */
final class JobGroupTasks {
    private JobGroupTasks() {}

    /**
     * Blocks until no task of {@code group}'s jobs is running, or {@code limit} passed.
     *
     * @return whether every task ended within {@code limit}
     */
    static boolean awaitEnded(JavaSparkContext jsc, String group, Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (running(jsc, group) > 0) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /** Tasks of {@code group}'s jobs that Spark still counts as running. */
    static int running(JavaSparkContext jsc, String group) {
        int active = 0;
        for (int jobId : jsc.statusTracker().getJobIdsForGroup(group)) {
            SparkJobInfo job = jsc.statusTracker().getJobInfo(jobId);
            if (job == null) {
                continue;
            }
            for (int stageId : job.stageIds()) {
                SparkStageInfo stage = jsc.statusTracker().getStageInfo(stageId);
                if (stage != null) {
                    active += stage.numActiveTasks();
                }
            }
        }
        return active;
    }
}
