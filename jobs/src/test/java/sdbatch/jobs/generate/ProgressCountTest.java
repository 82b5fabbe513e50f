package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The driver's image count from heartbeats and task ends (no Spark, no timing). */
class ProgressCountTest {
    @Test
    void runningTasksCountEachImageBeforeTheirPartitionEnds() {
        ProgressCount count = new ProgressCount(6);
        assertEquals(0, count.done());
        // Two partitions of three images; heartbeats report each task's running count.
        count.heartbeat(1, 1);
        assertEquals(1, count.done());
        count.heartbeat(2, 1);
        assertEquals(2, count.done());
        count.heartbeat(1, 2);
        assertEquals(3, count.done());
        count.taskEnded(1, 3);
        assertEquals(4, count.done());
        count.heartbeat(2, 2);
        assertEquals(5, count.done());
        count.taskEnded(2, 3);
        assertEquals(6, count.done());
    }

    @Test
    void aHeartbeatDeliveredAfterItsTaskEndedIsIgnored() {
        ProgressCount count = new ProgressCount(10);
        count.heartbeat(7, 1);
        count.taskEnded(7, 3);
        count.heartbeat(7, 2);
        assertEquals(3, count.done());
    }

    @Test
    void anOlderHeartbeatNeverTakesTheCountBack() {
        ProgressCount count = new ProgressCount(10);
        count.heartbeat(3, 4);
        count.heartbeat(3, 2);
        assertEquals(4, count.done());
    }

    @Test
    void aFailedAttemptsImagesAreDroppedAndItsRetryCountsThemAgain() {
        ProgressCount count = new ProgressCount(4);
        count.heartbeat(1, 2);
        assertEquals(2, count.done());
        count.taskEnded(1, 0);
        assertEquals(0, count.done());
        count.heartbeat(2, 1);
        count.taskEnded(2, 4);
        assertEquals(4, count.done());
        // A duplicate end event changes nothing.
        count.taskEnded(2, 4);
        assertEquals(4, count.done());
    }

    @Test
    void speculativeAttemptsNeverCountPastTheTotal() {
        ProgressCount count = new ProgressCount(3);
        count.heartbeat(1, 3);
        count.heartbeat(2, 2);
        assertEquals(3, count.done());
    }
}
