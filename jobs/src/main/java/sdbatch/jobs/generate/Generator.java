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

    /**
     * Whether {@code failure} (thrown by {@link #generate}) left the pipeline or its device unable
     * to serve any later batch, whatever the requests: a CUDA error after which the context is
     * lost, say, as opposed to a bad request or a batch too large for memory. The runner then
     * {@linkplain #discardPipeline discards} the pipeline, and fails the task when such failures
     * keep coming (see {@link PartitionRunner}). The default: never.
     */
    default boolean poisonsPipeline(Throwable failure) {
        return false;
    }

    /**
     * Drops the pipeline after a failure that {@linkplain #poisonsPipeline poisoned} it, so the
     * next {@link #generate} runs on a freshly loaded one (and no other task of this executor is
     * given the broken one). The default does nothing.
     */
    default void discardPipeline() throws Exception {}
}
