package sdbatch.schemas.metadata;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Pattern;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.InputPictures;
import sdbatch.schemas.SchedulerConfigJson;
import sdbatch.schemas.SchedulerNames;
import sdbatch.schemas.util.Hashes;

/**
 * The stable identity of one image: the first 32 hex digits (128 bits) of a SHA-256 over the model
 * identity and every generation parameter. Equal requests on the same model get the same id in any
 * JVM, on any machine, in any partitioning; that is what makes {@code --resume} and retry-safe
 * writes possible.
 *
 * <p>Hashed, in this order, each field length-prefixed (strings as UTF-8, numbers big-endian, so no
 * two different field lists share an encoding): the version tag {@value #VERSION}, model identity,
 * prompt, negative prompt, seed, steps, guidance scale, canonical scheduler alias, canonical
 * scheduler-config JSON, width, height, eta, clip skip. Doubles are hashed by their IEEE bits with
 * {@code -0.0} folded into {@code 0.0}. An img2img or inpainting request then adds its mode ({@code
 * img2img} or {@code inpaint}), the SHA-256 of its init picture's bytes, that of its mask (empty
 * without one), its strength and its paste-back flag: the pictures' content, never their locations
 * (the same picture under two names is one image; a file changed at the same path is a new one). A
 * text-to-image request hashes nothing more, so its id is what it always was. LoRAs and ControlNet
 * (issue 18), then the SDXL/SD3 columns and guidance rescale ({@link
 * sdbatch.schemas.ExtraConditioning#hashInto}, issues 16 and 19), then a "no negative prompt"
 * marker (a null negative prompt: SDXL's zeros, a different image from {@code ""}) follow, each
 * only when present, so requests without them keep their ids. The row's position, source and
 * passthrough columns are not part of the id: the same parameters give the same image wherever they
 * come from. Changing what is hashed requires a new version tag.
 */
public final class ImageId {
    private ImageId() {}

    /** Version tag mixed into every id. */
    public static final String VERSION = "sdbatch-image-id-v1";

    /** Hex digits in an id. */
    public static final int LENGTH = 32;

    private static final Pattern ID = Pattern.compile("[0-9a-f]{" + LENGTH + "}");

    /**
     * The id of {@code request} on the model {@code modelIdentity}.
     *
     * @param modelIdentity what identifies the weights (e.g. model name plus the UNet's sha256)
     */
    public static String of(String modelIdentity, GenerationRequest request) {
        Objects.requireNonNull(modelIdentity, "modelIdentity");
        ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(buf)) {
            string(out, VERSION);
            string(out, modelIdentity);
            string(out, request.prompt());
            string(out, request.negativePrompt() == null ? "" : request.negativePrompt());
            out.writeLong(request.seed());
            out.writeInt(request.steps());
            out.writeLong(Double.doubleToLongBits(request.guidanceScale() + 0.0));
            string(out, SchedulerNames.canonical(request.scheduler()).orElse(request.scheduler()));
            string(out, SchedulerConfigJson.canonical(request.schedulerConfig()));
            out.writeInt(request.width());
            out.writeInt(request.height());
            out.writeLong(Double.doubleToLongBits(request.eta() + 0.0));
            out.writeInt(request.clipSkip());
            InputPictures pictures = request.pictures();
            if (pictures != null) {
                string(out, pictures.mode());
                string(out, pictures.initImageSha256());
                string(out, pictures.isInpainting() ? pictures.maskImageSha256() : "");
                out.writeLong(Double.doubleToLongBits(pictures.strength() + 0.0));
                out.writeBoolean(pictures.pasteBack());
            }
            if (request.adapters() != null) {
                // LoRAs and ControlNet (issue 18): content hashes and numbers; a request without
                // them hashes nothing more, so its id is what it always was.
                string(out, "adapters");
                request.adapters().hashInto(out);
            }
            if (request.extra() != null) {
                // SDXL/SD3 columns and guidance rescale (issues 16, 19), only when set.
                string(out, "extra");
                request.extra().hashInto(out);
            }
            if (request.negativePrompt() == null) {
                // "No negative prompt" where the model tells it from "" (SDXL's zero embeddings);
                // elsewhere the planner keeps "" for none, so those ids are unchanged.
                string(out, "negative_prompt:none");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Hashes.sha256Hex(buf.toByteArray()).substring(0, LENGTH);
    }

    /**
     * The image's path relative to the output root: {@code images/<first two hex>/<id>.png} (256
     * subfolders keep directory listings small on object stores and file systems).
     *
     * @throws IllegalArgumentException when {@code imageId} is not an id
     */
    public static String path(String imageId) {
        if (imageId == null || !ID.matcher(imageId).matches()) {
            throw new IllegalArgumentException(
                    "image id " + imageId + " is not " + LENGTH + " lower-case hex digits");
        }
        return "images/" + imageId.substring(0, 2) + "/" + imageId + ".png";
    }

    private static void string(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(b.length);
        out.write(b);
    }
}
