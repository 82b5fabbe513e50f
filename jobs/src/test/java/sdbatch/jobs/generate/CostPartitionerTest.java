package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CostPartitionerTest {
    @Test
    void costIsStepsTimesPixels() {
        assertEquals(50L * 512 * 768, CostPartitioner.cost(50, 512, 768));
        assertThrows(IllegalArgumentException.class, () -> CostPartitioner.cost(0, 512, 512));
        assertThrows(IllegalArgumentException.class, () -> CostPartitioner.cost(20, 512, -8));
    }

    @Test
    void balancesByCostNotCount() {
        // One 1024x1024x50 image costs as much as 16 256x256x50 ones; by row count partition 0
        // would get the big one plus 8 small ones.
        long big = CostPartitioner.cost(50, 1024, 1024);
        long small = CostPartitioner.cost(50, 256, 256);
        long[] costs = new long[17];
        Arrays.fill(costs, small);
        costs[5] = big;
        int[] a = CostPartitioner.assign(costs, 2);
        long[] loads = CostPartitioner.loads(costs, a, 2);
        assertEquals(big, loads[0]);
        assertEquals(16 * small, loads[1]);
        assertEquals(0, a[5]);
    }

    @Test
    void deterministicAndNearOptimal() {
        Random random = new Random(7);
        long[] costs = new long[500];
        int[] steps = {4, 20, 50};
        int[] sizes = {256, 512, 768};
        long total = 0;
        long max = 0;
        for (int i = 0; i < costs.length; i++) {
            costs[i] =
                    CostPartitioner.cost(
                            steps[random.nextInt(3)],
                            sizes[random.nextInt(3)],
                            sizes[random.nextInt(3)]);
            total += costs[i];
            max = Math.max(max, costs[i]);
        }
        int[] a = CostPartitioner.assign(costs, 7);
        assertArrayEquals(a, CostPartitioner.assign(costs.clone(), 7));
        long[] loads = CostPartitioner.loads(costs, a, 7);
        long lower = Math.max(max, (total + 6) / 7);
        long makespan = Arrays.stream(loads).max().orElseThrow();
        // LPT's guarantee is 4/3 of optimal; for many small items it is far closer.
        assertTrue(makespan <= lower + max, "makespan " + makespan + " vs bound " + lower);
        for (int p : a) {
            assertTrue(p >= 0 && p < 7);
        }
    }

    @Test
    void equalCostsGoRoundRobinInIndexOrder() {
        assertArrayEquals(new int[] {0, 1, 2, 0, 1}, CostPartitioner.assign(new long[5], 3));
        assertArrayEquals(
                new int[] {0, 1, 2, 0, 1}, CostPartitioner.assign(new long[] {9, 9, 9, 9, 9}, 3));
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> CostPartitioner.assign(new long[1], 0));
        assertThrows(
                IllegalArgumentException.class,
                () -> CostPartitioner.assign(new long[] {1, -1}, 2));
        assertEquals(0, CostPartitioner.assign(new long[0], 4).length);
    }

    @Test
    void loraSetsStayTogether() {
        // 10,000 rows over 20 LoRA sets, interleaved as a sweep table lists them, 7 partitions.
        int rows = 10_000;
        int sets = 20;
        int partitions = 7;
        long[] costs = new long[rows];
        int[] groups = new int[rows];
        for (int i = 0; i < rows; i++) {
            costs[i] = CostPartitioner.cost(20, 512, 512);
            groups[i] = i % sets;
        }
        int[] plain = CostPartitioner.assign(costs, partitions);
        int[] grouped = CostPartitioner.assign(costs, groups, partitions);
        // Without groups every partition gets every set: 140 merges; with them the sets are laid
        // out one after another and cut in 7: at most 20 + 7 - 1.
        assertEquals(sets * partitions, setPlacements(plain, groups));
        assertTrue(
                setPlacements(grouped, groups) <= sets + partitions - 1,
                "" + setPlacements(grouped, groups));
        long fairShare = Arrays.stream(costs).sum() / partitions;
        long makespan =
                Arrays.stream(CostPartitioner.loads(costs, grouped, partitions)).max().getAsLong();
        assertTrue(makespan <= fairShare + costs[0], makespan + " vs fair share " + fairShare);
    }

    @Test
    void groupedAssignmentStaysBalancedOnRandomCosts() {
        Random random = new Random(11);
        for (int trial = 0; trial < 20; trial++) {
            int n = 50 + random.nextInt(500);
            int partitions = 1 + random.nextInt(12);
            long[] costs = new long[n];
            int[] groups = new int[n];
            for (int i = 0; i < n; i++) {
                costs[i] = 1 + random.nextInt(1000);
                groups[i] = random.nextInt(1 + random.nextInt(30));
            }
            int[] a = CostPartitioner.assign(costs, groups, partitions);
            assertArrayEquals(a, CostPartitioner.assign(costs, groups, partitions));
            long total = Arrays.stream(costs).sum();
            long largest = Arrays.stream(costs).max().getAsLong();
            long makespan =
                    Arrays.stream(CostPartitioner.loads(costs, a, partitions)).max().getAsLong();
            // Equal-cost stretches: at most the fair share plus one item.
            long bound = total / partitions + largest + 1;
            assertTrue(makespan <= bound, "trial " + trial + ": " + makespan + " > " + bound);
            for (int p : a) {
                assertTrue(p >= 0 && p < partitions);
            }
            long distinctGroups = Arrays.stream(groups).distinct().count();
            assertTrue(setPlacements(a, groups) <= distinctGroups + partitions - 1);
        }
    }

    @Test
    void oneGroupIsPlainLpt() {
        long[] costs = {5, 3, 9, 1, 7, 7, 2};
        assertArrayEquals(
                CostPartitioner.assign(costs, 3),
                CostPartitioner.assign(costs, new int[costs.length], 3));
        assertThrows(
                IllegalArgumentException.class, () -> CostPartitioner.assign(costs, new int[2], 3));
    }

    /** Distinct (partition, group) pairs: the merges a run makes with one cache per partition. */
    private static long setPlacements(int[] assignment, int[] groups) {
        java.util.Set<Long> pairs = new java.util.HashSet<>();
        for (int i = 0; i < assignment.length; i++) {
            pairs.add(((long) assignment[i] << 32) | groups[i]);
        }
        return pairs.size();
    }
}
