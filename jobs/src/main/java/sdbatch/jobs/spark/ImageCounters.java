package sdbatch.jobs.spark;

import java.io.Serializable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;
import sdbatch.schemas.Status;

/**
 * The run's image counters: the tasks add to them as each image is stored or fails ({@link
 * PartitionTask}), the driver reads them for its progress lines ({@link ProgressReporter}) and its
 * summary. Serializable: they travel with the task.
 *
 * @param done images stored or failed, counted as they are (the driver's progress)
 * @param failed images failed
 */
record ImageCounters(LongAccumulator done, LongAccumulator failed) implements Serializable {
    /** New counters, registered with the run's Spark context. */
    static ImageCounters register(JavaSparkContext jsc) {
        return new ImageCounters(
                jsc.sc().longAccumulator("sdbatch.done"),
                jsc.sc().longAccumulator("sdbatch.failed"));
    }

    /**
     * Counts a finished image as it is stored (or fails), so running tasks' heartbeats carry
     * per-image progress to the driver ({@link ProgressReporter}). The writer thread (stores
     * overlap) or the task thread adds; the lock keeps two adds from ever interleaving.
     */
    void count(Status status) {
        synchronized (done) {
            done.add(1);
            if (status == Status.FAILED) {
                failed.add(1);
            }
        }
    }

    /** Images generated and stored: done but not failed (on the driver, after the job). */
    long generated() {
        return done.value() - failed.value();
    }
}
