package sdbatch.jobs.generate;

import java.util.List;

/**
 * Generates the images of one batch of compatible requests (see {@link BatchGrouper}). This is the
 * seam where the Stable Diffusion pipeline plugs into the job; tests use a fake.
 *
 * @param <R> the request type
 */
@FunctionalInterface
public interface Generator<R> {
    /**
     * Generates one image per request, in the order of {@code batch}. A request the generator
     * rejects on its own gets {@link GeneratedPng#failed}; an exception fails the whole batch and
     * makes {@link PartitionRunner} retry its requests one by one.
     *
     * @return exactly {@code batch.size()} results
     * @throws Exception anything the generation throws; the runner turns it into failed rows
     */
    List<GeneratedPng> generate(List<R> batch) throws Exception;
}
