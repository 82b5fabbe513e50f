package sdbatch.jobs.generate;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The driver's count of images done, from two kinds of events about the tasks that count them (the
 * job's done accumulator, added once per stored or failed image): a running task's latest value
 * (executor heartbeats) and a task's final value when it ends. Pure, so the counting is tested
 * without Spark's timing.
 *
 * <p>Events of one task may arrive out of order relative to each other's threads (a heartbeat sent
 * before a task ended can be delivered after its end), so a task that has ended ignores later
 * heartbeats, and a task's value never goes back (heartbeats are cumulative). A failed attempt ends
 * with 0: its images are counted again by the retry, as Spark counts them. The total caps the count
 * (speculative attempts of one partition both count their images while they run).
 */
public final class ProgressCount {
    private final long total;
    private final Map<Long, Long> running = new HashMap<>();
    private final Set<Long> ended = new HashSet<>();
    private long finished;

    /**
     * @param total the images the job generates
     */
    public ProgressCount(long total) {
        this.total = total;
    }

    /** A running task's cumulative count, as its executor's heartbeat reported it. */
    public synchronized void heartbeat(long taskId, long value) {
        if (!ended.contains(taskId)) {
            running.merge(taskId, value, Math::max);
        }
    }

    /** A task ended; {@code finalValue} is its count if it succeeded, 0 otherwise. */
    public synchronized void taskEnded(long taskId, long finalValue) {
        if (ended.add(taskId)) {
            running.remove(taskId);
            finished += finalValue;
        }
    }

    /** Images done: ended tasks' final counts plus running tasks' latest, at most the total. */
    public synchronized long done() {
        long d = finished;
        for (long v : running.values()) {
            d += v;
        }
        return Math.min(d, total);
    }
}
