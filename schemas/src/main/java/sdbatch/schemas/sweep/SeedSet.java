package sdbatch.schemas.sweep;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A list of seeds written as ranges and single values, {@code --seeds 0-99,1234}: kept as ranges
 * (ten million seeds cost a few bytes), expanded in the order written.
 *
 * <p>Syntax: comma-separated items, each a non-negative decimal integer {@code N} or an inclusive
 * range {@code N-M} with {@code N <= M}; spaces around items are allowed. Rejected, with a message
 * naming the item: empty items, signs, non-digits, reversed ranges, seeds written twice (they would
 * make the same image twice), and more than {@link #MAX_SEEDS} seeds in all.
 */
public final class SeedSet implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Most seeds one {@code --seeds} may name. */
    public static final long MAX_SEEDS = 10_000_000L;

    /**
     * One inclusive range.
     *
     * @param first first seed
     * @param last last seed (inclusive, {@code >= first})
     */
    public record Range(long first, long last) implements Serializable {
        /** Number of seeds in the range. */
        public long size() {
            return last - first + 1;
        }

        @Override
        public String toString() {
            return first == last ? Long.toString(first) : first + "-" + last;
        }
    }

    private final List<Range> ranges;
    private final long size;

    private SeedSet(List<Range> ranges) {
        this.ranges = List.copyOf(ranges);
        long n = 0;
        for (Range r : ranges) {
            n += r.size();
        }
        this.size = n;
    }

    /**
     * Parses a {@code --seeds} value.
     *
     * @throws IllegalArgumentException naming the bad item and the rule
     */
    public static SeedSet parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("--seeds is empty; write e.g. 0-99,1234");
        }
        List<Range> ranges = new ArrayList<>();
        long total = 0;
        for (String raw : spec.split(",", -1)) {
            String item = raw.strip();
            if (item.isEmpty()) {
                throw new IllegalArgumentException(
                        "--seeds " + quote(spec) + " has an empty item; write e.g. 0-99,1234");
            }
            int dash = item.indexOf('-');
            Range r;
            if (dash < 0) {
                long v = number(spec, item, item);
                r = new Range(v, v);
            } else {
                long a = number(spec, item, item.substring(0, dash).strip());
                long b = number(spec, item, item.substring(dash + 1).strip());
                if (b < a) {
                    throw new IllegalArgumentException(
                            "--seeds item "
                                    + quote(item)
                                    + " is a reversed range ("
                                    + a
                                    + " > "
                                    + b
                                    + ")");
                }
                r = new Range(a, b);
            }
            total += r.size(); // cannot overflow: each size <= Long.MAX_VALUE and we stop early
            if (r.size() > MAX_SEEDS || total > MAX_SEEDS || total < 0) {
                throw new IllegalArgumentException(
                        "--seeds " + quote(spec) + " names more than " + MAX_SEEDS + " seeds");
            }
            ranges.add(r);
        }
        List<Range> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(Range::first));
        for (int i = 1; i < sorted.size(); i++) {
            if (sorted.get(i).first() <= sorted.get(i - 1).last()) {
                throw new IllegalArgumentException(
                        "--seeds "
                                + quote(spec)
                                + " names seed "
                                + sorted.get(i).first()
                                + " twice (items "
                                + sorted.get(i - 1)
                                + " and "
                                + sorted.get(i)
                                + ")");
            }
        }
        return new SeedSet(ranges);
    }

    /** A set of the given seeds, in order (each >= 0, no repeats). */
    public static SeedSet of(long... seeds) {
        StringBuilder sb = new StringBuilder();
        for (long s : seeds) {
            sb.append(sb.length() == 0 ? "" : ",").append(s);
        }
        return parse(sb.toString());
    }

    /** Number of seeds. */
    public long size() {
        return size;
    }

    /** The ranges, in the order written. */
    public List<Range> ranges() {
        return ranges;
    }

    /**
     * The {@code index}-th seed in written order.
     *
     * @throws IndexOutOfBoundsException outside {@code 0..size()-1}
     */
    public long get(long index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("seed index " + index + " of " + size);
        }
        long i = index;
        for (Range r : ranges) {
            if (i < r.size()) {
                return r.first() + i;
            }
            i -= r.size();
        }
        throw new IllegalStateException("unreachable");
    }

    private static long number(String spec, String item, String digits) {
        if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException(
                    "--seeds item "
                            + quote(item)
                            + " in "
                            + quote(spec)
                            + " is not a seed N or range N-M of non-negative integers");
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--seeds item " + quote(item) + " is larger than " + Long.MAX_VALUE, e);
        }
    }

    private static String quote(String s) {
        return "'" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "'";
    }

    /** The canonical spec, e.g. {@code 0-99,1234}. */
    @Override
    public String toString() {
        return ranges.stream().map(Range::toString).collect(Collectors.joining(","));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SeedSet other && other.ranges.equals(ranges);
    }

    @Override
    public int hashCode() {
        return ranges.hashCode();
    }
}
