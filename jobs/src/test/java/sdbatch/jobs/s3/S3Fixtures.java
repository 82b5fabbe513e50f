package sdbatch.jobs.s3;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import sdbatch.jobs.cli.Cli;
import sdbatch.jobs.generate.Generator;
import sdbatch.jobs.generate.PlannedRequest;
import sdbatch.jobs.spark.GenerateJob;
import sdbatch.jobs.storage.ModelManifest;
import sdbatch.jobs.storage.S3TestServer;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.pipeline.tiny.TinyModels;

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
     * A TinyModels SD1 model of {@code seed}, written under {@code tmp/tiny} with a manifest (so
     * that its copy is checked by SHA-256 too) and uploaded to {@code models/tiny/}; its URI.
     */
    static String uploadTinyModel(S3TestServer server, Path tmp, long seed) throws IOException {
        Path local = TinyModels.write(tmp.resolve("tiny"), TinyModels.Variant.SD1, seed);
        ModelManifest.write(local);
        String model = server.uri("models/tiny/");
        upload(server, local, model);
        return model;
    }

    /**
     * The real command line whose {@code generate} is the real job ({@link
     * GenerateCommand#pipelineComponents}: the model of {@code --model}, its row planner, the
     * pipeline generator), except that each generate call first tells {@link Outage} which image
     * ids it is about to make, so a fault test can take the server away at an exact point.
     */
    static Cli withOutageHook() {
        return GenerateArgs.withGeneratorHook(S3Fixtures::hooked);
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
