package sdbatch.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import sdbatch.pipeline.compute.ComputeOptions;
import sdbatch.pipeline.lora.LoraSpec;
import sdbatch.pipeline.models.kernels.Bf16Compute;
import sdbatch.pipeline.tiny.TinyModels;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.SafetensorsWriter;

/**
 * LoRA sets through the pipeline on a tiny SD 1.x model: requests are batched by set and each set
 * is merged once per call, whatever the order of the requests; a set's images do not depend on what
 * ran before; and with prepacked bfloat16 weights a merge reaches the packed copies.
 */
class StableDiffusionPipelineLoraTest {
    @TempDir static Path tmp;
    static Path model;
    static Path loraA;
    static Path loraB;
    static StableDiffusionPipeline pipe;

    /** A kohya LoRA on every attention projection and resnet conv1 of the tiny UNet. */
    static Path kohyaLora(String name, long seed) throws IOException {
        Random r = new Random(seed);
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile unet =
                SafetensorsFile.open(model.resolve("unet/diffusion_pytorch_model.safetensors"))) {
            for (var e : unet.tensors().entrySet()) {
                String key = e.getKey();
                long[] s = e.getValue().shape();
                if (!(key.endsWith("to_q.weight")
                        || key.endsWith("to_v.weight")
                        || key.endsWith("conv1.weight"))) {
                    continue;
                }
                String base =
                        "lora_unet_"
                                + key.substring(0, key.length() - ".weight".length())
                                        .replace('.', '_');
                int rank = 2;
                long inner = s.length == 4 ? s[1] * s[2] * s[3] : s[1];
                long[] down =
                        s.length == 4
                                ? new long[] {rank, s[1], s[2], s[3]}
                                : new long[] {rank, s[1]};
                long[] up = s.length == 4 ? new long[] {s[0], rank, 1, 1} : new long[] {s[0], rank};
                w.add(base + ".lora_down.weight", down, gaussian(r, (int) (rank * inner)));
                w.add(base + ".lora_up.weight", up, gaussian(r, (int) (s[0] * rank)));
                w.add(base + ".alpha", new long[0], new float[] {1f});
            }
        }
        Path f = tmp.resolve(name + ".safetensors");
        w.write(f);
        return f;
    }

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian() * 0.3f;
        }
        return v;
    }

    @BeforeAll
    static void load() throws IOException {
        model = TinyModels.write(tmp.resolve("tiny-sd1"), TinyModels.Variant.SD1, 9);
        loraA = kohyaLora("a", 1);
        loraB = kohyaLora("b", 2);
        pipe = StableDiffusionPipeline.load(model, PipelineOptions.defaults().withMaxBatchSize(2));
    }

    @AfterAll
    static void close() {
        pipe.close();
    }

    static ImageRequest request(int seed, List<LoraSpec> loras) {
        return ImageRequest.of("a lighthouse at dawn", seed)
                .withSteps(2)
                .withScheduler("ddim", null)
                .withLoras(loras);
    }

    @Test
    void requestsAreGroupedBySetAndEachSetMergesOncePerCall() {
        List<LoraSpec> a = List.of(LoraSpec.of(loraA, 0.8));
        List<LoraSpec> ab = List.of(LoraSpec.of(loraA, 0.8), LoraSpec.of(loraB, -0.4));
        List<ImageRequest> requests = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            requests.add(request(i, i % 3 == 0 ? a : i % 3 == 1 ? ab : List.of()));
        }
        long merges = pipe.loraWeights().mergeCount();
        long restores = pipe.loraWeights().restoreCount();
        List<GeneratedImage> images = pipe.generate(requests);
        // a, then a+b, then the base: two merges and one restore for nine interleaved requests.
        assertEquals(merges + 2, pipe.loraWeights().mergeCount());
        assertEquals(restores + 1, pipe.loraWeights().restoreCount());
        // Each image is its set's, in request order, whatever ran before it: a LoRA changes an
        // image by far more than 1e-4 (asserted below).
        for (int i : new int[] {0, 1, 2}) {
            GeneratedImage alone = pipe.generate(List.of(requests.get(i))).get(0);
            // (batched and alone differ by float rounding only)
            assertArrayEquals(alone.latents(), images.get(i).latents(), 1e-4f, "request " + i);
        }
        float[] plain = pipe.generate(List.of(request(0, List.of()))).get(0).latents();
        double max = 0;
        for (int k = 0; k < plain.length; k++) {
            max = Math.max(max, Math.abs(plain[k] - images.get(0).latents()[k]));
        }
        assertTrue(max > 1e-2, "the LoRA changes the image: " + max);
    }

    @Test
    void aBadLoraFailsTheCheckNamingTheRequest() throws IOException {
        Path missing = tmp.resolve("missing.safetensors");
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                pipe.generate(
                                        List.of(
                                                request(1, List.of()),
                                                request(2, List.of(LoraSpec.of(missing, 1))))));
        assertTrue(e.getMessage().startsWith("request 1: "), e.getMessage());
        assertTrue(e.getMessage().contains("missing.safetensors"), e.getMessage());
    }

    @Test
    void aMergeReachesPrepackedBfloat16Weights() throws IOException {
        PipelineOptions bf16 =
                PipelineOptions.defaults().withCompute(ComputeOptions.defaults().withBf16(true));
        try (StableDiffusionPipeline warm = StableDiffusionPipeline.load(model, bf16);
                StableDiffusionPipeline fresh = StableDiffusionPipeline.load(model, bf16)) {
            ImageRequest base = request(5, List.of());
            ImageRequest lora = request(5, List.of(LoraSpec.of(loraA, 1.0)));
            // Packs the base weights first (where this CPU has prepacked bfloat16 kernels).
            float[] before = warm.generate(List.of(base)).get(0).latents();
            assumeTrue(
                    Bf16Compute.prepackUnavailableReason() == null,
                    "no prepacked bfloat16 kernels here: "
                            + Bf16Compute.prepackUnavailableReason());
            float[] merged = warm.generate(List.of(lora)).get(0).latents();
            float[] expected = fresh.generate(List.of(lora)).get(0).latents();
            assertFalse(java.util.Arrays.equals(before, merged));
            assertArrayEquals(expected, merged, "packed copies made before the merge were used");
            assertArrayEquals(before, warm.generate(List.of(base)).get(0).latents());
        } catch (IllegalStateException e) {
            assumeTrue(false, "bf16 compute unavailable: " + e.getMessage());
        }
    }
}
