package sdbatch.schemas;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a request adds to the base model (issue 18): its LoRA set and its ControlNet, resolved by
 * the job to absolute URIs with the content hashes that image ids hash (the files' content, never
 * their locations). Reading the files is the job's; this module only names them.
 *
 * @param loras the LoRA set, in order (the order of the additions decides float rounding); empty =
 *     none
 * @param controlNet the ControlNet and its control picture, or null
 */
public record Adapters(List<Lora> loras, ControlNetUse controlNet) implements Serializable {
    /** Copies the list. */
    public Adapters {
        loras = loras == null ? List.of() : List.copyOf(loras);
    }

    /**
     * One LoRA of a request's set.
     *
     * @param uri the file's absolute URI (a plain path for local files)
     * @param sha256 lower-case hex SHA-256 of the file's bytes (metadata, image id)
     * @param addnetHash A1111's hash of a safetensors LoRA: SHA-256 of the bytes after the header
     *     (its {@code Lora hashes} infotext shows the first 12 hex digits)
     * @param weight the LoRA's weight (multiplier), finite
     */
    public record Lora(String uri, String sha256, String addnetHash, double weight)
            implements Serializable {
        public Lora {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(sha256, "sha256");
            Objects.requireNonNull(addnetHash, "addnetHash");
            if (!Double.isFinite(weight)) {
                throw new IllegalArgumentException("LoRA " + uri + ": weight is not finite");
            }
            weight += 0.0;
        }

        /** The file's stem: A1111's name of the LoRA. */
        public String name() {
            String file = uri.substring(uri.lastIndexOf('/') + 1);
            int dot = file.lastIndexOf('.');
            return dot > 0 ? file.substring(0, dot) : file;
        }
    }

    /**
     * A ControlNet on one request, with diffusers' {@code StableDiffusionControlNetPipeline}
     * arguments, every one resolved.
     *
     * @param uri the ControlNet folder's absolute URI
     * @param sha256 the folder's content hash (its files' paths, sizes and SHA-256s)
     * @param controlImage the control picture's absolute URI
     * @param controlImageSha256 SHA-256 hex of the control picture's bytes
     * @param conditioningScale {@code controlnet_conditioning_scale}
     * @param guidanceStart {@code control_guidance_start}
     * @param guidanceEnd {@code control_guidance_end}
     */
    public record ControlNetUse(
            String uri,
            String sha256,
            String controlImage,
            String controlImageSha256,
            double conditioningScale,
            double guidanceStart,
            double guidanceEnd)
            implements Serializable {
        public ControlNetUse {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(sha256, "sha256");
            Objects.requireNonNull(controlImage, "controlImage");
            Objects.requireNonNull(controlImageSha256, "controlImageSha256");
            conditioningScale += 0.0;
            guidanceStart += 0.0;
            guidanceEnd += 0.0;
        }
    }

    /** The adapters of {@code loras} and {@code controlNet}, or null when there are none. */
    public static Adapters of(List<Lora> loras, ControlNetUse controlNet) {
        return (loras == null || loras.isEmpty()) && controlNet == null
                ? null
                : new Adapters(loras, controlNet);
    }

    /** The LoRA set as the {@code loras} column writes it: {@code uri:weight;...}, or null. */
    public String lorasText() {
        return loras.isEmpty()
                ? null
                : loras.stream()
                        .map(l -> l.uri() + ":" + pythonFloat(l.weight()))
                        .collect(Collectors.joining(";"));
    }

    /** The LoRA files' SHA-256s, {@code ;}-separated as {@link #lorasText}, or null. */
    public String loraSha256s() {
        return loras.isEmpty()
                ? null
                : loras.stream().map(Lora::sha256).collect(Collectors.joining(";"));
    }

    /**
     * What requests merged with the same weights share: every LoRA's content hash and weight, in
     * order ("" for none). Two URIs of one file are one set.
     */
    public static String loraSetKey(Adapters a) {
        if (a == null || a.loras.isEmpty()) {
            return "";
        }
        return a.loras.stream()
                .map(l -> l.sha256() + "*" + Double.doubleToLongBits(l.weight()))
                .collect(Collectors.joining(";"));
    }

    /**
     * A1111's {@code Lora hashes} infotext value: {@code name: hash12} for each LoRA, joined by
     * {@code ", "}, with {@code :} and {@code ,} taken out of names (as A1111's {@code
     * ExtraNetworkLora.activate} writes it); null without LoRAs.
     */
    public String a1111LoraHashes() {
        if (loras.isEmpty()) {
            return null;
        }
        List<String> items = new ArrayList<>();
        for (Lora l : loras) {
            String alias = l.name().replace(":", "").replace(",", "");
            items.add(alias + ": " + l.addnetHash().substring(0, 12));
        }
        return String.join(", ", items);
    }

    /** Adds what the image id hashes: content hashes and numbers, never locations. */
    public void hashInto(DataOutputStream out) throws IOException {
        out.writeInt(loras.size());
        for (Lora l : loras) {
            out.writeUTF(l.sha256());
            out.writeLong(Double.doubleToLongBits(l.weight()));
        }
        out.writeBoolean(controlNet != null);
        if (controlNet != null) {
            out.writeUTF(controlNet.sha256());
            out.writeUTF(controlNet.controlImageSha256());
            out.writeLong(Double.doubleToLongBits(controlNet.conditioningScale()));
            out.writeLong(Double.doubleToLongBits(controlNet.guidanceStart()));
            out.writeLong(Double.doubleToLongBits(controlNet.guidanceEnd()));
        }
    }

    /** The adapters as the keys of the PNG's request JSON. */
    public void addTo(JsonObject o) {
        if (!loras.isEmpty()) {
            JsonArray a = new JsonArray();
            for (Lora l : loras) {
                JsonObject e = new JsonObject();
                e.addProperty("uri", l.uri());
                e.addProperty("sha256", l.sha256());
                e.addProperty("addnet_hash", l.addnetHash());
                e.addProperty("weight", l.weight());
                a.add(e);
            }
            o.add(Columns.LORAS, a);
        }
        if (controlNet != null) {
            o.addProperty(Columns.CONTROLNET, controlNet.uri());
            o.addProperty(Columns.CONTROLNET_SHA256, controlNet.sha256());
            o.addProperty(Columns.CONTROL_IMAGE, controlNet.controlImage());
            o.addProperty(Columns.CONTROL_IMAGE_SHA256, controlNet.controlImageSha256());
            o.addProperty(Columns.CONTROLNET_CONDITIONING_SCALE, controlNet.conditioningScale());
            o.addProperty(Columns.CONTROL_GUIDANCE_START, controlNet.guidanceStart());
            o.addProperty(Columns.CONTROL_GUIDANCE_END, controlNet.guidanceEnd());
        }
    }

    /** The adapters written by {@link #addTo}, or null when {@code o} has none. */
    public static Adapters fromJson(JsonObject o) {
        List<Lora> loras = new ArrayList<>();
        JsonElement l = o.get(Columns.LORAS);
        if (l != null && l.isJsonArray()) {
            for (JsonElement e : l.getAsJsonArray()) {
                JsonObject x = e.getAsJsonObject();
                loras.add(
                        new Lora(
                                x.get("uri").getAsString(),
                                x.get("sha256").getAsString(),
                                x.get("addnet_hash").getAsString(),
                                x.get("weight").getAsDouble()));
            }
        }
        ControlNetUse cn = null;
        if (o.has(Columns.CONTROLNET)) {
            cn =
                    new ControlNetUse(
                            o.get(Columns.CONTROLNET).getAsString(),
                            o.get(Columns.CONTROLNET_SHA256).getAsString(),
                            o.get(Columns.CONTROL_IMAGE).getAsString(),
                            o.get(Columns.CONTROL_IMAGE_SHA256).getAsString(),
                            o.get(Columns.CONTROLNET_CONDITIONING_SCALE).getAsDouble(),
                            o.get(Columns.CONTROL_GUIDANCE_START).getAsDouble(),
                            o.get(Columns.CONTROL_GUIDANCE_END).getAsDouble());
        }
        return of(loras, cn);
    }

    /** A weight as Python's {@code repr(float)} writes it in simple cases ({@code 1.0}, 0.8). */
    static String pythonFloat(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e16) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return Double.toString(v);
    }
}
