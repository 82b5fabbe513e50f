package sdbatch.jobs.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.jobs.cli.JobOptions;
import sdbatch.jobs.io.HadoopConf;
import sdbatch.jobs.storage.ModelContent;
import sdbatch.jobs.testing.GenerateArgs;
import sdbatch.pipeline.tiny.TinyModels;

/**
 * Issue 15 items 4 and 11: the model identity covers every weight file (a retrained text encoder or
 * VAE of the same shape is a new identity), the driver plans from configs and file hashes without
 * building the model, and an executor refuses a model copy whose content hash differs from the
 * driver's.
 */
class ModelSetupTest {
    @TempDir static Path shared;
    @TempDir Path dir;

    /** A tiny SD 1.x folder written once (weights are seeded: byte-identical every time). */
    static Path template;

    @BeforeAll
    static void writeTemplate() throws IOException {
        template = TinyModels.write(shared.resolve("tiny"), TinyModels.Variant.SD1, 0);
    }

    private Path copyOfTemplate(String name) throws IOException {
        Path copy = dir.resolve(name);
        try (var walk = Files.walk(template)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = copy.resolve(template.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        return copy;
    }

    private ModelSetup load(Path model) {
        JobOptions options =
                GenerateArgs.options(
                        dir.resolve("in.csv"),
                        dir.resolve("out"),
                        "--model",
                        model.toString(),
                        "--model-cache",
                        dir.resolve("cache").toString());
        return ModelSetup.load(
                options,
                new Configuration(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    }

    /** Flips one byte past the safetensors header: same size, same shapes, other weights. */
    private static void retrain(Path weights) throws IOException {
        byte[] bytes = Files.readAllBytes(weights);
        bytes[bytes.length - 3] ^= 0x10;
        Files.write(weights, bytes);
    }

    @Test
    void retrainedTextEncoderOrVaeOfTheSameShapeIsANewIdentity() throws IOException {
        Path model = copyOfTemplate("model");
        String original = load(model).facts().identity();
        assertTrue(original.contains("#sha256="), original);

        Path textEncoder = model.resolve("text_encoder/model.safetensors");
        long size = Files.size(textEncoder);
        retrain(textEncoder);
        assertEquals(size, Files.size(textEncoder));
        ModelSetup retrainedText = load(model);
        assertNotEquals(original, retrainedText.facts().identity());
        // The A1111 infotext hash is the UNet's: unchanged, as A1111 computes it.
        assertEquals(load(copyOfTemplate("again")).facts().hash(), retrainedText.facts().hash());

        retrain(model.resolve("vae/diffusion_pytorch_model.safetensors"));
        String retrainedVae = load(model).facts().identity();
        assertNotEquals(original, retrainedVae);
        assertNotEquals(retrainedText.facts().identity(), retrainedVae);
    }

    @Test
    void theDriverPlansFromConfigsWithoutBuildingTheModel() throws IOException {
        // Configs intact, UNet weights not a safetensors file at all: building the model would
        // fail; reading configs and hashing files does not.
        Path model = copyOfTemplate("model");
        Path unet = model.resolve("unet/diffusion_pytorch_model.safetensors");
        Files.write(unet, "not a safetensors file".getBytes(StandardCharsets.UTF_8));
        int pipelinesBefore = ExecutorPipelineCache.shared().size();

        ModelSetup setup = load(model);

        Path intact = copyOfTemplate("intact");
        ModelSetup reference = load(intact);
        assertEquals(reference.facts().defaultSize(), setup.facts().defaultSize());
        assertEquals(reference.facts().scheduler(), setup.facts().scheduler());
        assertEquals(reference.facts().textEncoderLayers(), setup.facts().textEncoderLayers());
        assertEquals(ModelContent.hash(model), setup.contentHash());
        assertEquals(pipelinesBefore, ExecutorPipelineCache.shared().size(), "nothing loaded");
    }

    @Test
    void anExecutorRefusesAModelWhoseContentIsNotTheDriversNamingBothHashes() throws Exception {
        Path model = copyOfTemplate("model");
        ModelSetup driver = load(model);
        // The folder changes after the driver planned (retrained in place mid-run).
        retrain(model.resolve("vae/diffusion_pytorch_model.safetensors"));
        String executorHash = ModelContent.hash(model);

        GenerateJob.GeneratorFactory factory =
                ExecutorPipelines.factory(
                        new ModelSpec(
                                model.toString(),
                                dir.resolve("cache").toString(),
                                new HadoopConf(new Configuration())),
                        "fp32",
                        driver.facts().name(),
                        driver.contentHash(),
                        n -> {},
                        null,
                        null,
                        null,
                        null,
                        null,
                        false);
        int pipelinesBefore = ExecutorPipelineCache.shared().size();
        IllegalStateException e =
                assertThrows(
                        IllegalStateException.class,
                        () -> factory.open(new GpuAssignment("cpu", null)));
        assertTrue(
                e.getMessage().contains(driver.contentHash())
                        && e.getMessage().contains(executorHash),
                e.getMessage());
        assertEquals(pipelinesBefore, ExecutorPipelineCache.shared().size(), "nothing loaded");
    }

    @Test
    void aJvmThatLoadedAModelLoadsItAgainOnceItsFilesChanged() throws Exception {
        // A long-lived executor (or local-mode session) runs a second job after the folder was
        // retrained in place: it must not serve the first job's weights from its pipeline cache.
        Path model = copyOfTemplate("model");
        GpuAssignment cpu = new GpuAssignment("cpu", null);
        String before = ModelContent.hash(model);
        var first = ExecutorPipelines.pipeline(model, before, cpu, "fp32");
        retrain(model.resolve("text_encoder/model.safetensors"));
        String after = ModelContent.hash(model);
        assertNotEquals(before, after);
        var second = ExecutorPipelines.pipeline(model, after, cpu, "fp32");
        org.junit.jupiter.api.Assertions.assertNotSame(first, second);
        org.junit.jupiter.api.Assertions.assertSame(
                second, ExecutorPipelines.pipeline(model, after, cpu, "fp32"));
    }
}
