package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/** What the bad-request tests of every mode assert alike. */
final class RefusedRequests {
    private RefusedRequests() {}

    /**
     * {@code request}, second in a call after a fine one, fails the whole call with a message that
     * names it ({@code request 1}) and {@code mentioned}, before any native array is made.
     */
    static void assertRefusedBeforeTensorWork(
            StableDiffusionPipeline pipe, ImageRequest request, String mentioned) {
        int arraysBefore = pipe.nativeArrayCount();
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                pipe.generate(
                                        List.of(ImageRequest.of("fine", 1).withSteps(2), request)));
        assertTrue(e.getMessage().contains(mentioned), e.getMessage());
        assertTrue(e.getMessage().startsWith("request 1"), e.getMessage());
        assertEquals(arraysBefore, pipe.nativeArrayCount());
    }
}
