package sdbatch.pipeline.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.weights.SafetensorsFile;
import sdbatch.pipeline.weights.StateDictWeights;

/**
 * The reference component cases of {@code ../shared/golden} (README.md there): for a model, the
 * cases of {@code manifest.components[model]} with their atol, and the tensors of {@code
 * components-<model>.safetensors}.
 */
final class GoldenComponents {
    /** The tiny models the reference data covers. */
    static final List<String> MODELS = List.of("tiny-sd1", "tiny-sd2v");

    record Case(String model, String name, double atol) {}

    private GoldenComponents() {}

    /** Cases of {@code model} whose name starts with {@code prefix}, from the manifest. */
    static List<Case> cases(Path golden, String model, String prefix) throws IOException {
        JsonObject manifest =
                JsonParser.parseString(
                                Files.readString(
                                        golden.resolve("manifest.json"), StandardCharsets.UTF_8))
                        .getAsJsonObject();
        List<Case> out = new ArrayList<>();
        for (JsonElement e : manifest.getAsJsonObject("components").getAsJsonArray(model)) {
            JsonObject c = e.getAsJsonObject();
            String name = c.get("case").getAsString();
            if (name.startsWith(prefix)) {
                out.add(new Case(model, name, c.get("atol").getAsDouble()));
            }
        }
        return out;
    }

    /**
     * Cases of every model of {@link #MODELS} whose name starts with {@code prefix}; never none.
     */
    static List<Case> cases(Path golden, String prefix) throws IOException {
        List<Case> out = new ArrayList<>();
        for (String model : MODELS) {
            out.addAll(cases(golden, model, prefix));
        }
        assertTrue(!out.isEmpty(), "manifest lists no " + prefix + " cases");
        return out;
    }

    static SafetensorsFile open(Path golden, String model) throws IOException {
        return SafetensorsFile.open(golden.resolve("components-" + model + ".safetensors"));
    }

    /** A reference case's UNet inputs. */
    record UnetInputs(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {}

    /** A golden model's float32 UNet and its reference tensors, closed together. */
    record GoldenUnet(UNet2DConditionModel unet, SafetensorsFile references)
            implements AutoCloseable {
        /** The UNet of {@code golden/model/unet} in {@code manager}, with the model's tensors. */
        static GoldenUnet load(Path golden, String model, NDManager manager) throws IOException {
            UNet2DConditionModel unet =
                    UNet2DConditionModel.load(
                            golden.resolve(model).resolve("unet"), manager, DataType.FLOAT32);
            try {
                return new GoldenUnet(unet, open(golden, model));
            } catch (IOException | RuntimeException e) {
                unet.close();
                throw e;
            }
        }

        /** The UNet inputs of the model's reference case {@code name}, in {@code manager}. */
        UnetInputs inputs(String name, NDManager manager) {
            return new UnetInputs(
                    tensor(name + "/sample", manager),
                    tensor(name + "/timestep", manager),
                    tensor(name + "/encoder_hidden_states", manager));
        }

        /** The UNet's output for {@code in}. */
        NDArray forward(UnetInputs in) {
            return unet.forward(in.sample(), in.timestep(), in.encoderHiddenStates());
        }

        /** The reference tensor {@code name} of the model, in {@code manager}. */
        NDArray tensor(String name, NDManager manager) {
            return GoldenComponents.tensor(references, name, manager);
        }

        @Override
        public void close() {
            references.close();
            unet.close();
        }
    }

    /** A reference tensor as float32 (integers too: timesteps). */
    static NDArray tensor(SafetensorsFile f, String name, NDManager manager) {
        SafetensorsFile.TensorInfo info = f.info(name);
        if (info == null) {
            throw new IllegalStateException("reference tensor " + name + " missing in " + f.path());
        }
        DataType dt = info.dtype().isFloat() ? DataType.FLOAT32 : DataType.INT64;
        return StateDictWeights.toNDArray(f, info, manager, dt);
    }

    /** Max |a - b| in float64 terms; shapes must agree. */
    static double maxAbsDiff(NDArray actual, NDArray expected) {
        if (!actual.getShape().equals(expected.getShape())) {
            throw new AssertionError(
                    "shape " + actual.getShape() + " != expected " + expected.getShape());
        }
        float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray();
        float[] b = expected.toType(DataType.FLOAT32, false).toFloatArray();
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs((double) a[i] - b[i]);
            if (Double.isNaN(d)) {
                return Double.NaN;
            }
            max = Math.max(max, d);
        }
        return max;
    }
}
