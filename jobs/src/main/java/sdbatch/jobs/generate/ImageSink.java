package sdbatch.jobs.generate;

/** Stores the PNG of one image under its id; {@code sdbatch.jobs.io.ImageStore} is the real one. */
@FunctionalInterface
public interface ImageSink {
    /**
     * Stores {@code png} as image {@code imageId}. Failures after retries come back as {@link
     * StoredImage#failed}; an exception is treated the same way by {@link PartitionRunner}.
     */
    StoredImage store(String imageId, byte[] png) throws Exception;
}
