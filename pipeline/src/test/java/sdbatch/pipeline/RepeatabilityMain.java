package sdbatch.pipeline;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Run in a second JVM by {@link StableDiffusionPipelineTest}: loads a model folder, generates one
 * fixed request and writes its PNG, so the test can compare bytes across JVMs.
 */
public final class RepeatabilityMain {
    private RepeatabilityMain() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Path out = Path.of(args[1]);
        try (StableDiffusionPipeline pipe =
                StableDiffusionPipeline.load(model, PipelineOptions.defaults())) {
            GeneratedImage img =
                    pipe.generate(List.of(StableDiffusionPipelineTest.fixedRequest())).get(0);
            Files.write(out, pipe.toPng(img, "tiny"));
        }
    }
}
