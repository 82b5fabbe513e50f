package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import sdbatch.pipeline.testing.SharedData;
import sdbatch.pipeline.weights.SafetensorsFile;

/**
 * The text encoder against transformers' own outputs for the two tiny reference models: {@code
 * text/input_ids} in, {@code text/last_hidden_state} (clip_skip 0) and {@code text/clip_skip1}
 * (diffusers' {@code clip_skip=1}) out, within the case's {@code atol} from {@code manifest.json}.
 */
class CLIPTextModelGoldenTest {

    @ParameterizedTest(name = "Golden {0} text/{1} (clip_skip {2})")
    @CsvSource({
        "tiny-sd1, last_hidden_state, 0",
        "tiny-sd1, clip_skip1, 1",
        "tiny-sd2v, last_hidden_state, 0",
        "tiny-sd2v, clip_skip1, 1"
    })
    void matchesTransformers(String model, String output, int clipSkip) throws Exception {
        Path golden = SharedData.golden();
        double atol = textAtol(golden, model);
        try (NDManager manager = NDManager.newBaseManager();
                SafetensorsFile ref =
                        SafetensorsFile.open(
                                golden.resolve("components-" + model + ".safetensors"));
                CLIPTextModel clip =
                        CLIPTextModel.load(
                                golden.resolve(model).resolve("text_encoder"),
                                manager,
                                DataType.FLOAT32)) {
            SafetensorsFile.TensorInfo idsInfo = ref.info("text/input_ids");
            NDArray ids =
                    manager.create(ref.readLongs("text/input_ids"), new Shape(idsInfo.shape()));
            NDArray out = clip.encode(ids, clipSkip);

            String key = "text/" + output;
            assertArrayEquals(ref.info(key).shape(), out.getShape().getShape(), key + " shape");
            float[] expected = ref.readFloats(key);
            float[] actual = out.toFloatArray();
            double maxErr = 0;
            for (int i = 0; i < expected.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(expected[i] - actual[i]));
            }
            System.out.printf("%s %s: max abs error %.3g (atol %.1g)%n", model, key, maxErr, atol);
            assertTrue(
                    maxErr <= atol,
                    model + " " + key + ": max abs error " + maxErr + " exceeds atol " + atol);
        }
    }

    /** The {@code atol} of the {@code text} case of {@code manifest.components[model]}. */
    private static double textAtol(Path golden, String model) throws Exception {
        JsonElement manifest =
                JsonParser.parseString(Files.readString(golden.resolve("manifest.json")));
        for (JsonElement c :
                manifest.getAsJsonObject().getAsJsonObject("components").getAsJsonArray(model)) {
            if ("text".equals(c.getAsJsonObject().get("case").getAsString())) {
                return c.getAsJsonObject().get("atol").getAsDouble();
            }
        }
        throw new AssertionError("manifest.json has no text case for " + model);
    }
}
