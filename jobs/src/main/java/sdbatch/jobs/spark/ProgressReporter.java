package sdbatch.jobs.spark;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.AccumulableInfo;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorMetricsUpdate;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.TaskInfo;
import org.apache.spark.util.LongAccumulator;
import scala.jdk.javaapi.CollectionConverters;
import sdbatch.jobs.generate.ProgressCount;

/**
 * The driver's progress of a generate run: a line every {@code --progress-interval} (a bar redrawn
 * in place on a terminal), the {@code --max-failures} guard that cancels the run's job group, and
 * the final summary line. Images are counted by the pure {@link ProgressCount}, fed from Spark's
 * listener bus.
 */
final class ProgressReporter implements AutoCloseable {
    private final PrintStream log;
    private final long total;
    private final long maxFailures;
    private final JavaSparkContext jsc;
    private final String group;
    private final long startNanos = System.nanoTime();
    private volatile boolean stopped;
    private final boolean bar = System.console() != null;
    private volatile boolean barShown;
    private ScheduledExecutorService ticker;

    /** Images done (stored or failed): finished tasks' and running tasks' counts. */
    private final Tally done;

    /** Failed images, counted like {@link #done}. */
    private final Tally failed;

    /**
     * A reporter that counts nothing until {@link #start}.
     *
     * @param total images the run generates
     * @param counters the run's image counters
     * @param maxFailures {@code --max-failures}, negative for no limit
     * @param group the job group cancelled past {@code maxFailures}
     */
    ProgressReporter(
            PrintStream log,
            long total,
            ImageCounters counters,
            long maxFailures,
            JavaSparkContext jsc,
            String group) {
        this.log = log;
        this.total = total;
        this.done = new Tally(counters.done(), new ProgressCount(total));
        this.failed = new Tally(counters.failed(), new ProgressCount(total));
        this.maxFailures = maxFailures;
        this.jsc = jsc;
        this.group = group;
    }

    /**
     * One of the run's counters as Spark's events carry it: the accumulator the tasks add to, and
     * the pure {@link ProgressCount} of its values per task.
     */
    private record Tally(LongAccumulator accumulator, ProgressCount count) {
        /** A running task's value in an executor heartbeat's updates, if there. */
        void heartbeat(long taskId, scala.collection.Iterable<AccumulableInfo> updates) {
            Long value = valueOf(accumulator, updates);
            if (value != null) {
                count.heartbeat(taskId, value);
            }
        }

        /**
         * A task's end: a successful task's final value; a failed or killed attempt's counts are
         * dropped, as Spark drops them.
         */
        void taskEnded(TaskInfo task) {
            Long value = valueOf(accumulator, task.accumulables());
            count.taskEnded(task.taskId(), task.successful() && value != null ? value : 0L);
        }
    }

    /**
     * Starts reporting: a progress line every {@code intervalSeconds}, counts from the listener bus
     * until {@link #close}.
     *
     * @return this reporter
     */
    ProgressReporter start(long intervalSeconds) {
        ticker =
                Executors.newSingleThreadScheduledExecutor(
                        r -> {
                            Thread t = new Thread(r, "sdbatch-progress");
                            t.setDaemon(true);
                            return t;
                        });
        ticker.scheduleAtFixedRate(this::tick, intervalSeconds, intervalSeconds, TimeUnit.SECONDS);
        jsc.sc().addSparkListener(listener);
        return this;
    }

    /** Stops the progress lines and the listener. */
    @Override
    public void close() {
        jsc.sc().removeSparkListener(listener);
        ticker.shutdownNow();
    }

    /**
     * Feeds {@link #done} and {@link #failed} from the listener bus: executor heartbeats carry each
     * running task's done counter (every {@code spark.executor.heartbeatInterval}, which {@link
     * sdbatch.jobs.cli.GenerateCommand#session} ties to {@code --progress-interval}), and a task's
     * end carries its final value. Both count images as they are stored, so the line moves per
     * image while a partition is still running, not per finished partition.
     */
    private final SparkListener listener =
            new SparkListener() {
                @Override
                public void onExecutorMetricsUpdate(SparkListenerExecutorMetricsUpdate e) {
                    for (var t : CollectionConverters.asJava(e.accumUpdates())) {
                        done.heartbeat((Long) t._1(), t._4());
                        failed.heartbeat((Long) t._1(), t._4());
                    }
                }

                @Override
                public void onTaskEnd(SparkListenerTaskEnd e) {
                    done.taskEnded(e.taskInfo());
                    failed.taskEnded(e.taskInfo());
                }
            };

    /** {@code counter}'s value among {@code infos}, or null when it is not there. */
    private static Long valueOf(
            LongAccumulator counter, scala.collection.Iterable<AccumulableInfo> infos) {
        for (var info : CollectionConverters.asJava(infos)) {
            if (info.id() == counter.id() && info.update().isDefined()) {
                return ((Number) info.update().get()).longValue();
            }
        }
        return null;
    }

    /** One progress line: images done (see {@link #listener}), failures, rate and ETA. */
    void tick() {
        long d = done.count().done();
        // Failures as they happen (heartbeats), not only when a partition ends: --max-failures
        // must stop a run whose partitions are long, before they finish.
        long f = Math.max(failed.count().done(), failed.accumulator().value());
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double rate = d / Math.max(seconds, 1e-9);
        String eta =
                rate > 0
                        ? String.format(
                                Locale.ROOT,
                                "%dm%02ds",
                                (long) ((total - d) / rate) / 60,
                                (long) ((total - d) / rate) % 60)
                        : "?";
        String line =
                String.format(
                        Locale.ROOT,
                        "%d/%d images (%.1f%%), %d failed, %.2f images/s, ETA %s",
                        d,
                        total,
                        total == 0 ? 100.0 : 100.0 * d / total,
                        f,
                        rate,
                        eta);
        if (bar) {
            // A terminal: redraw one line in place.
            log.print("\r" + bar(d, total) + " " + line + "   ");
            log.flush();
            barShown = true;
        } else {
            log.println("sdbatch: " + line);
        }
        if (maxFailures >= 0 && f > maxFailures && !stopped) {
            stopped = true;
            log.printf("sdbatch: %d failures exceed --max-failures %d; stopping%n", f, maxFailures);
            jsc.cancelJobGroup(group);
        }
    }

    /** Whether {@code --max-failures} cancelled the run. */
    boolean stopped() {
        return stopped;
    }

    /** {@code [#####-----]}: 30 cells. */
    static String bar(long done, long total) {
        int cells = 30;
        int full = total == 0 ? cells : (int) (cells * done / total);
        return "[" + "#".repeat(full) + "-".repeat(cells - full) + "]";
    }

    /** The final line: counts by status, duration and exit code. */
    void finish(GenerateJob.Summary s, Duration elapsed) {
        if (barShown) {
            log.println();
        }
        log.printf(
                "sdbatch: done in %s: %d rows: %d ok (%d generated, %d resumed), %d invalid,"
                        + " %d failed%s; exit %d%n",
                String.format(
                        Locale.ROOT, "%dm%02ds", elapsed.toMinutes(), elapsed.toSecondsPart()),
                s.rows(),
                s.ok(),
                s.generated(),
                s.resumed(),
                s.invalid(),
                s.failed(),
                s.stoppedEarly() ? " (stopped early)" : "",
                s.exitCode().code());
    }
}
