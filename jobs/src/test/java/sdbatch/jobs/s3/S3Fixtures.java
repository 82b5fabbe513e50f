package sdbatch.jobs.s3;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import sdbatch.jobs.cli.Cli;
import sdbatch.jobs.cli.GenerateCommand;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.spark.GenerateJob;
import sdbatch.jobs.storage.S3TestServer;

/**
 * Shared set-up of the s3a tests: uploading a local model folder to the bucket, and the real {@code
 * generate} command with the {@link Outage} hook in front of its generator.
 */
final class S3Fixtures {
    private S3Fixtures() {}

    /** Copies every file under {@code local} to {@code uri} (a folder URI ending in '/'). */
    static void upload(S3TestServer server, Path local, String uri) throws IOException {
        try (Stream<Path> walk = Files.walk(local)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                S3Jobs.put(
                        server,
                        uri + local.relativize(p).toString().replace('\\', '/'),
                        Files.readAllBytes(p));
            }
        }
    }

    /**
     * The real command line whose {@code generate} is the real job ({@link
     * GenerateCommand#pipelineComponents}: the model of {@code --model}, its row planner, the
     * pipeline generator), except that each generate call first tells {@link Outage} which image
     * ids it is about to make, so a fault test can take the server away at an exact point.
     */
    static Cli withOutageHook() {
        GenerateCommand generate =
                new GenerateCommand(
                        (options, spark, truncated, log) -> {
                            GenerateJob.Components real =
                                    GenerateCommand.pipelineComponents(
                                            options, spark, truncated, log);
                            return new GenerateJob.Components(
                                    real.planner(), hooked(real.generators()), real.model());
                        });
        return new Cli(Map.of("generate", generate));
    }

    /** {@code generators} with {@link Outage#beforeGenerate} in front of every generate call. */
    private static GenerateJob.GeneratorFactory hooked(GenerateJob.GeneratorFactory generators) {
        return device -> {
            Generator<PlannedRequest> real = generators.open(device);
            return batch -> {
                List<String> ids = new ArrayList<>(batch.size());
                batch.forEach(r -> ids.add(r.imageId()));
                Outage.beforeGenerate(ids);
                return real.generate(batch);
            };
        };
    }
}
