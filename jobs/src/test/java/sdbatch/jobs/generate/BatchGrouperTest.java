package sdbatch.jobs.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class BatchGrouperTest {
    record Req(String id, int size, int steps) {
        Object key() {
            return List.of(size, steps);
        }
    }

    @Test
    void groupsCompatibleRequestsInFirstAppearanceOrder() {
        List<Req> reqs =
                List.of(
                        new Req("a", 512, 20),
                        new Req("b", 256, 20),
                        new Req("c", 512, 20),
                        new Req("d", 512, 50),
                        new Req("e", 512, 20),
                        new Req("f", 256, 20));
        List<List<Req>> batches = BatchGrouper.group(reqs, Req::key, 2);
        assertEquals(
                List.of(List.of("a", "c"), List.of("e"), List.of("b", "f"), List.of("d")),
                batches.stream().map(b -> b.stream().map(Req::id).toList()).toList());
        assertEquals(6, BatchGrouper.group(reqs, Req::key, 1).size());
        assertEquals(3, BatchGrouper.group(reqs, Req::key, 100).size());
    }

    @Test
    void rejectsBadBatchSize() {
        assertThrows(
                IllegalArgumentException.class, () -> BatchGrouper.group(List.of(), x -> x, 0));
    }
}
