package sdbatch.jobs.generate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 *
 * <p><b>Groups.</b> Rows of one LoRA set run on weights merged once for that set; spreading them
 * over every partition, as LPT does, makes every partition merge every set. {@link #assign(long[],
 * int[], int)} lays the items out group after group (groups in order of first appearance, items in
 * index order) and cuts that line into {@code n} consecutive stretches of equal cost: an item goes
 * to the partition its cost's midpoint falls in. Each partition's load is then within one item's
 * cost of the fair share (LPT's guarantee is 4/3 of the optimum), and the n partitions hold at most
 * {@code groups + n - 1} (partition, group) pairs, so a run merges each set about once instead of
 * once per partition.
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

    /**
     * Assigns items to partitions keeping each group's items together where balance allows (see the
     * class comment). With a single group this is {@link #assign(long[], int)}.
     *
     * @param costs non-negative cost of each item
     * @param groups each item's group (any int; items of one group are kept together)
     * @param partitions number of partitions, at least 1
     * @return the partition index of each item, in {@code [0, partitions)}
     */
    public static int[] assign(long[] costs, int[] groups, int partitions) {
        if (groups.length != costs.length) {
            throw new IllegalArgumentException(
                    costs.length + " costs but " + groups.length + " group labels");
        }
        if (Arrays.stream(groups).distinct().count() <= 1) {
            return assign(costs, partitions);
        }
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        }
        double total = 0;
        for (int i = 0; i < costs.length; i++) {
            if (costs[i] < 0) {
                throw new IllegalArgumentException(
                        "cost of item " + i + " is negative: " + costs[i]);
            }
            total += costs[i];
        }
        Map<Integer, List<Integer>> byGroup = new LinkedHashMap<>();
        for (int i = 0; i < costs.length; i++) {
            byGroup.computeIfAbsent(groups[i], g -> new ArrayList<>()).add(i);
        }
        int[] assignment = new int[costs.length];
        double before = 0;
        int placed = 0;
        for (List<Integer> items : byGroup.values()) {
            for (int i : items) {
                // Zero total cost: spread by position instead.
                double midpoint =
                        total > 0
                                ? (before + costs[i] / 2.0) / total
                                : (placed + 0.5) / costs.length;
                assignment[i] = Math.min(partitions - 1, (int) (midpoint * partitions));
                before += costs[i];
                placed++;
            }
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
