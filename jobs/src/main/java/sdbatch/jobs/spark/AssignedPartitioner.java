package sdbatch.jobs.spark;

import java.util.Arrays;
import org.apache.spark.Partitioner;
import org.apache.spark.broadcast.Broadcast;

/**
 * Routes a request (keyed by its ordinal) to the partition {@link
 * sdbatch.jobs.generate.CostPartitioner} chose for it. The assignment is broadcast once rather than
 * shipped with every task.
 */
final class AssignedPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;

    /** Sorted ordinals and, at the same index, their partitions. */
    record Assignment(long[] ordinals, int[] partitions) implements java.io.Serializable {}

    private final Broadcast<Assignment> assignment;
    private final int numPartitions;

    AssignedPartitioner(Broadcast<Assignment> assignment, int numPartitions) {
        this.assignment = assignment;
        this.numPartitions = numPartitions;
    }

    @Override
    public int numPartitions() {
        return numPartitions;
    }

    @Override
    public int getPartition(Object key) {
        Assignment a = assignment.value();
        int i = Arrays.binarySearch(a.ordinals(), (Long) key);
        if (i < 0) {
            throw new IllegalStateException("request " + key + " has no assigned partition");
        }
        return a.partitions()[i];
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AssignedPartitioner p
                && p.assignment.id() == assignment.id()
                && p.numPartitions == numPartitions;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(assignment.id()) * 31 + numPartitions;
    }
}
