package sdbatch.pipeline.embeddings;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.GeneratedImage;
import sdbatch.pipeline.ImageRequest;
import sdbatch.pipeline.PipelineOptions;
import sdbatch.pipeline.StableDiffusionPipeline;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.pipeline.tokenizer.CLIPTokenizer;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * Textual-inversion embeddings on a tiny SD 1.x model (text width 32): the three file formats, the
 * n-vector expansion of a trigger in prompts and negative prompts (diffusers' {@code
 * maybe_convert_prompt}), and the errors at load.
 */
class TextualInversionTest {
    @TempDir static Path tmp;
    static Path model;
    static Path embeddings;
    static StableDiffusionPipeline plain;
    static StableDiffusionPipeline withEmbeddings;

    static float[] vectors(int n, int width, float seed) {
        float[] v = new float[n * width];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) Math.sin(seed + i * 0.37) * 0.5f;
        }
        return v;
    }

    @BeforeAll
    static void load() throws IOException {
        model = TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 5);
        embeddings = Files.createDirectories(tmp.resolve("embeddings"));
        // A1111's format, 3 vectors; diffusers' (one key, the token), 1 vector.
        new SafetensorsWriter()
                .add("emb_params", new long[] {3, 32}, vectors(3, 32, 1))
                .write(embeddings.resolve("mystyle.safetensors"));
        new SafetensorsWriter()
                .add("<cat-toy>", new long[] {32}, vectors(1, 32, 2))
                .write(embeddings.resolve("cattoy.safetensors"));
        plain = StableDiffusionPipeline.load(model, PipelineOptions.defaults());
        withEmbeddings =
                StableDiffusionPipeline.load(
                        model, PipelineOptions.defaults().withEmbeddings(embeddings));
    }

    @AfterAll
    static void close() {
        plain.close();
        withEmbeddings.close();
    }

    @Test
    void triggersBecomeNewTokensAndExpandToAllTheirVectors() {
        CLIPTokenizer t = withEmbeddings.tokenizer();
        int base = plain.tokenizer().vocabSize();
        assertEquals(base + 4, t.vocabSize());
        assertEquals(
                "ugly, mystyle mystyle_1 mystyle_2, cattoy",
                t.maybeConvertPrompt("ugly, mystyle, cattoy"));
        // The expanded prompt's ids: the three new tokens in a row.
        int[] ids = t.encodeUnpadded(t.maybeConvertPrompt("mystyle"));
        assertEquals(5, ids.length);
        assertTrue(ids[1] >= base && ids[2] == ids[1] + 1 && ids[3] == ids[1] + 2);
        // Without embeddings nothing changes.
        assertEquals("ugly, mystyle", plain.tokenizer().maybeConvertPrompt("ugly, mystyle"));
    }

    @Test
    void aTriggerInTheNegativePromptUsesTheEmbedding() {
        ImageRequest r =
                ImageRequest.of("a lighthouse", 3)
                        .withSteps(2)
                        .withScheduler("ddim", null)
                        .withNegativePrompt("mystyle");
        GeneratedImage a = withEmbeddings.generate(List.of(r)).get(0);
        GeneratedImage b = plain.generate(List.of(r)).get(0);
        GeneratedImage none = withEmbeddings.generate(List.of(r.withNegativePrompt(null))).get(0);
        GeneratedImage none2 = plain.generate(List.of(r.withNegativePrompt(null))).get(0);
        // Prompts without a trigger give the same image with or without the embeddings loaded.
        assertArrayEquals(none.latents(), none2.latents());
        // With the trigger the negative conditioning is the embedding's, not the plain words'.
        assertFalse(java.util.Arrays.equals(a.latents(), b.latents()));
    }

    /** Loading the tiny model with the embeddings of {@code dir} fails; its error. */
    private static ModelLoadException loadError(Path dir) {
        return assertThrows(
                ModelLoadException.class,
                () ->
                        StableDiffusionPipeline.load(
                                model, PipelineOptions.defaults().withEmbeddings(dir)));
    }

    @Test
    void aWrongWidthEmbeddingIsAnErrorAtLoadNamingTheFile() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("wide"));
        new SafetensorsWriter()
                .add("emb_params", new long[] {2, 48}, vectors(2, 48, 3))
                .write(dir.resolve("widestyle.safetensors"));
        ModelLoadException e = loadError(dir);
        assertTrue(e.getMessage().contains("widestyle.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("48 wide"), e.getMessage());
    }

    @Test
    void aTriggerAlreadyInTheVocabularyIsAnError() throws IOException {
        // Every byte-level BPE vocabulary holds the single letters.
        assertTrue(plain.tokenizer().inVocabulary("a"));
        Path dir = Files.createDirectories(tmp.resolve("taken"));
        new SafetensorsWriter()
                .add("emb_params", new long[] {1, 32}, vectors(1, 32, 4))
                .write(dir.resolve("a.safetensors"));
        ModelLoadException e = loadError(dir);
        assertTrue(e.getMessage().contains("a.safetensors"), e.getMessage());
        assertTrue(
                e.getMessage().contains("already in the tokenizer's vocabulary"), e.getMessage());
    }

    @Test
    void sdxlFilesNeedASecondEncoderAndPickleFilesAreRefused() throws IOException {
        Path sdxl = tmp.resolve("xlstyle.safetensors");
        new SafetensorsWriter()
                .add("clip_g", new long[] {2, 48}, vectors(2, 48, 5))
                .add("clip_l", new long[] {2, 32}, vectors(2, 32, 6))
                .write(sdxl);
        TextualInversion.Embedding e = TextualInversion.read(sdxl);
        assertEquals("xlstyle", e.trigger());
        assertEquals(2, e.vectors().get(TextualInversion.TEXT_ENCODER).length);
        assertEquals(48, e.vectors().get(TextualInversion.TEXT_ENCODER_2)[0].length);
        assertEquals(List.of("xlstyle", "xlstyle_1"), e.tokens(TextualInversion.TEXT_ENCODER));

        Path dir = Files.createDirectories(tmp.resolve("pickles"));
        Files.write(dir.resolve("old.pt"), new byte[] {(byte) 0x80, 2});
        ModelLoadException p =
                assertThrows(ModelLoadException.class, () -> TextualInversion.loadFolder(dir));
        assertTrue(p.getMessage().contains("pickle"), p.getMessage());
        assertTrue(p.getMessage().contains("safetensors"), p.getMessage());
    }
}
