package sdbatch.jobs.generate;

import java.util.Arrays;
import java.util.Comparator;
import java.util.PriorityQueue;

/**
 * Assigns work items to {@code n} partitions so that the partitions' total costs are balanced, with
 * the greedy longest-processing-time rule: items in order of decreasing cost (ties: lower item
 * index first) each go to the partition with the smallest load so far (ties: fewer items, then
 * lower partition index). LPT is within 4/3 of the optimal makespan, and the result depends only on
 * the costs and {@code n}, so two runs of one job partition identically.
 *
 * <p>The cost of one image is {@link #cost(int, int, int) steps × width × height}: the UNet
 * evaluations dominate a Stable Diffusion run and each costs about the number of latent pixels.
 * Balancing by row count instead would put a 50-step 1024² image and a 4-step 256² image on the
 * same footing.
 */
public final class CostPartitioner {
    private CostPartitioner() {}

    /**
     * The cost of generating one image.
     *
     * @throws IllegalArgumentException when a factor is not positive
     */
    public static long cost(int steps, int width, int height) {
        if (steps <= 0 || width <= 0 || height <= 0) {
            throw new IllegalArgumentException(
                    "cost needs positive steps, width and height, got steps "
                            + steps
                            + ", width "
                            + width
                            + ", height "
                            + height);
        }
        return (long) steps * width * height;
    }

    /**
     * Assigns item {@code i} (with cost {@code costs[i]}) to a partition.
     *
     * @param costs non-negative cost of each item
     * @param partitions number of partitions, at least 1
     * @return the partition index of each item, in {@code [0, partitions)}
     */
    public static int[] assign(long[] costs, int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        }
        Integer[] order = new Integer[costs.length];
        for (int i = 0; i < costs.length; i++) {
            if (costs[i] < 0) {
                throw new IllegalArgumentException(
                        "cost of item " + i + " is negative: " + costs[i]);
            }
            order[i] = i;
        }
        Arrays.sort(
                order,
                Comparator.<Integer>comparingLong(i -> costs[i])
                        .reversed()
                        .thenComparingInt(i -> i));
        // Heap entries are {load, item count, partition}: equal loads go to the partition with
        // fewer
        // items (so zero-cost items spread too), then the lower index, making every tie
        // deterministic.
        PriorityQueue<long[]> loads =
                new PriorityQueue<>(
                        Comparator.<long[]>comparingLong(e -> e[0])
                                .thenComparingLong(e -> e[1])
                                .thenComparingLong(e -> e[2]));
        for (int p = 0; p < partitions; p++) {
            loads.add(new long[] {0L, 0L, p});
        }
        int[] assignment = new int[costs.length];
        for (int i : order) {
            long[] least = loads.poll();
            assignment[i] = (int) least[2];
            least[0] += costs[i];
            least[1]++;
            loads.add(least);
        }
        return assignment;
    }

    /** The total cost per partition of an assignment made by {@link #assign}. */
    public static long[] loads(long[] costs, int[] assignment, int partitions) {
        long[] loads = new long[partitions];
        for (int i = 0; i < costs.length; i++) {
            loads[assignment[i]] += costs[i];
        }
        return loads;
    }
}
