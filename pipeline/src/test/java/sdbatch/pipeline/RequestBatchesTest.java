package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import sdbatch.pipeline.lora.LoraSpec;

class RequestBatchesTest {
    private static ImageRequest at(int size, int steps) {
        return ImageRequest.of("a cat", 1)
                .withSize(size, size)
                .withSteps(steps)
                .withGuidanceScale(7.5)
                .withEta(0)
                .withScheduler("euler", "{}");
    }

    @Test
    void rowsShareABatchWhenSizeAndScheduleAgreeInCallOrderAndAtMostTheBatchSize() {
        List<ImageRequest> requests =
                List.of(at(64, 4), at(96, 4), at(64, 4), at(64, 8), at(64, 4), at(64, 4));
        assertEquals(
                List.of(List.of(0, 2, 4), List.of(5), List.of(1), List.of(3)),
                RequestBatches.of(requests, 3));
        // Prompts, seeds and guidance scales are per-row tensors: one batch.
        List<ImageRequest> varied =
                List.of(at(64, 4), at(64, 4).withGuidanceScale(3).withNegativePrompt("blurry"));
        assertEquals(List.of(List.of(0, 1)), RequestBatches.of(varied, 4));
    }

    @Test
    void eachLoraSetsRowsComeTogetherSoItIsMergedOncePerCall() {
        List<LoraSpec> style = List.of(LoraSpec.of(Path.of("/l/style.safetensors"), 0.8));
        List<ImageRequest> requests =
                List.of(at(64, 4).withLoras(style), at(64, 4), at(64, 4).withLoras(style));
        assertEquals(List.of(List.of(0, 2), List.of(1)), RequestBatches.of(requests, 4));
    }
}
