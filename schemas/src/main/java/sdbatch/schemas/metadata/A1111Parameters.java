package sdbatch.schemas.metadata;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import java.math.BigDecimal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import sdbatch.schemas.GenerationRequest;
import sdbatch.schemas.SchedulerConfigJson;
import sdbatch.schemas.SchedulerNames;

/**
 * AUTOMATIC1111's "infotext", the PNG {@code parameters} text that A1111's PNG Info tab, civitai
 * and similar readers understand: a port of A1111 {@code modules/processing.py create_infotext}
 * (writing) and {@code modules/infotext_utils.py parse_generation_parameters} (reading).
 *
 * <p>Layout: the prompt; a {@code Negative prompt: ...} line only when there is one; then one line
 * of {@code key: value} pairs joined by {@code ", "}. A value containing {@code ,}, {@code :} or a
 * newline is written as a JSON string ({@code quote}, {@code json.dumps(ensure_ascii=False)}). We
 * write {@code Steps, Sampler, CFG scale, Seed, Size, Model hash, Model}, then {@code Denoising
 * strength} for img2img and inpainting (A1111 writes it there, before {@code Clip skip}), {@code
 * Eta DDIM} for DDIM with eta &gt; 0, {@code Clip skip} (A1111 counts from 1: diffusers' {@code
 * clip_skip} + 1, omitted when no layer is skipped, as A1111 does) and {@code RNG: CPU} (our noise
 * is torch's CPU generator, which A1111 offers under that name). A1111 has no names for the
 * SDXL/SD3 columns ({@code prompt_2}, the micro-conditioning, {@code max_sequence_length}) nor for
 * {@code guidance_rescale}, so they are only in the {@code sdbatch} chunk; a {@code --vae} override
 * adds A1111's {@code VAE hash} and {@code VAE} after {@code Model} ({@link #withVae}).
 *
 * <p>A1111's format has limits we inherit: prompt lines are stripped of surrounding whitespace when
 * read, and a prompt line starting with {@code Negative prompt:} is read as the negative prompt.
 * The exact request is in the PNG's {@code sdbatch} chunk.
 *
 * @param prompt the prompt
 * @param negativePrompt the negative prompt, {@code ""} for none
 * @param params the key-value line, in order, values unquoted ({@code Size} kept as {@code WxH})
 */
public record A1111Parameters(String prompt, String negativePrompt, Map<String, String> params) {

    // A1111 infotext_utils.re_param_code; Python's \w and \s are Unicode-aware.
    private static final Pattern PARAM =
            Pattern.compile(
                    "\\s*(\\w[\\w \\-/]+):\\s*(\"(?:\\\\.|[^\\\\\"])+\"|[^,]*)(?:,|$)",
                    Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern IMAGE_SIZE = Pattern.compile("^(\\d+)x(\\d+)$");
    private static final Pattern HEX10 = Pattern.compile("[0-9a-fA-F]{10,}");

    /** Copies the map, keeping its order. */
    public A1111Parameters {
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(negativePrompt, "negativePrompt");
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /**
     * The infotext of one request.
     *
     * @param r the request
     * @param modelName the model's name (A1111 removes {@code ,} and {@code :} from it; so do we)
     * @param modelHash hex SHA-256 of the UNet weights (or its first 10 hex digits); the first 10
     *     digits are written, as A1111's short hash
     */
    public static A1111Parameters of(GenerationRequest r, String modelName, String modelHash) {
        if (modelHash == null || !HEX10.matcher(modelHash).matches()) {
            throw new IllegalArgumentException(
                    "model hash " + modelHash + " is not at least 10 hex digits");
        }
        SchedulerNames.Entry sampler =
                SchedulerNames.lookup(r.scheduler())
                        .orElseThrow(
                                () ->
                                        new IllegalArgumentException(
                                                "scheduler "
                                                        + r.scheduler()
                                                        + " has no A1111 sampler name; known: "
                                                        + SchedulerNames.knownNames()));
        Map<String, String> p = new LinkedHashMap<>();
        p.put("Steps", Integer.toString(r.steps()));
        p.put("Sampler", sampler.a1111Name());
        p.put("CFG scale", pythonFloat(r.guidanceScale()));
        p.put("Seed", Long.toString(r.seed()));
        p.put("Size", r.width() + "x" + r.height());
        p.put("Model hash", modelHash.substring(0, 10).toLowerCase(java.util.Locale.ROOT));
        p.put("Model", modelName.replace(",", "").replace(":", ""));
        if (r.pictures() != null) {
            p.put("Denoising strength", pythonFloat(r.pictures().strength()));
        }
        if (sampler.alias().equals("ddim") && r.eta() != 0) {
            p.put("Eta DDIM", pythonFloat(r.eta()));
        }
        if (r.clipSkip() > 0) {
            p.put("Clip skip", Integer.toString(r.clipSkip() + 1));
        }
        p.put("RNG", "CPU");
        if (r.adapters() != null && !r.adapters().loras().isEmpty()) {
            p.put("Lora hashes", r.adapters().a1111LoraHashes());
        }
        // A null negative prompt (none, on SDXL) is no line, as "" is: A1111 has no way to say
        // which; the sdbatch chunk's JSON does.
        return new A1111Parameters(
                r.prompt(), r.negativePrompt() == null ? "" : r.negativePrompt(), p);
    }

    /**
     * These parameters with A1111's {@code VAE hash} (the first 10 hex digits of {@code vaeSha256},
     * the VAE weights file's SHA-256, as A1111's {@code sd_vae_hash}) and {@code VAE} (its name,
     * with {@code ,} and {@code :} removed), placed right after {@code Model}, where A1111's {@code
     * create_infotext} writes them.
     */
    public A1111Parameters withVae(String vaeName, String vaeSha256) {
        if (vaeSha256 == null || !HEX10.matcher(vaeSha256).matches()) {
            throw new IllegalArgumentException(
                    "VAE hash " + vaeSha256 + " is not at least 10 hex digits");
        }
        Map<String, String> p = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : params.entrySet()) {
            p.put(e.getKey(), e.getValue());
            if (e.getKey().equals("Model")) {
                p.put("VAE hash", vaeSha256.substring(0, 10).toLowerCase(java.util.Locale.ROOT));
                p.put("VAE", vaeName.replace(",", "").replace(":", ""));
            }
        }
        if (!p.containsKey("VAE hash")) {
            p.put("VAE hash", vaeSha256.substring(0, 10).toLowerCase(java.util.Locale.ROOT));
            p.put("VAE", vaeName.replace(",", "").replace(":", ""));
        }
        return new A1111Parameters(prompt, negativePrompt, p);
    }

    /** The infotext; port of A1111 {@code processing.create_infotext}'s final formatting. */
    public String toInfotext() {
        StringBuilder line = new StringBuilder();
        for (Map.Entry<String, String> e : params.entrySet()) {
            if (e.getValue() == null) {
                continue;
            }
            if (line.length() > 0) {
                line.append(", ");
            }
            // A1111 writes a bare key when key == value; never the case for our keys.
            if (e.getKey().equals(e.getValue())) {
                line.append(e.getKey());
            } else {
                line.append(e.getKey()).append(": ").append(quote(e.getValue()));
            }
        }
        String negative = negativePrompt.isEmpty() ? "" : "\nNegative prompt: " + negativePrompt;
        return (prompt + negative + "\n" + line).strip();
    }

    /**
     * Reads an infotext with A1111's rules (port of {@code
     * infotext_utils.parse_generation_parameters}, without its UI defaults): the last line is the
     * parameter line if it holds at least 3 {@code key: value} pairs; lines before it are the
     * prompt until one starts with {@code Negative prompt:}, the rest the negative prompt; quoted
     * values are unquoted with JSON rules.
     */
    public static A1111Parameters parse(String infotext) {
        String[] all = infotext.strip().split("\n", -1);
        String lastLine = all[all.length - 1];
        int promptLines = all.length - 1;
        if (countParams(lastLine) < 3) {
            promptLines = all.length;
            lastLine = "";
        }
        StringBuilder prompt = new StringBuilder();
        StringBuilder negative = new StringBuilder();
        boolean doneWithPrompt = false;
        for (int i = 0; i < promptLines; i++) {
            String line = all[i].strip();
            if (line.startsWith("Negative prompt:")) {
                doneWithPrompt = true;
                line = line.substring(16).strip();
            }
            StringBuilder target = doneWithPrompt ? negative : prompt;
            if (target.length() > 0) {
                target.append('\n');
            }
            target.append(line);
        }
        Map<String, String> p = new LinkedHashMap<>();
        Matcher m = PARAM.matcher(lastLine);
        while (m.find()) {
            String v = m.group(2);
            if (!v.isEmpty() && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
                v = unquote(v);
            }
            p.put(m.group(1), v);
        }
        return new A1111Parameters(prompt.toString(), negative.toString(), p);
    }

    /** The value of {@code key}, or null. */
    public String get(String key) {
        return params.get(key);
    }

    /** {@code Steps}. */
    public int steps() {
        return Integer.parseInt(required("Steps"));
    }

    /** {@code Sampler} (A1111 name). */
    public String sampler() {
        return required("Sampler");
    }

    /** {@code CFG scale}. */
    public double cfgScale() {
        return Double.parseDouble(required("CFG scale"));
    }

    /** {@code Seed}. */
    public long seed() {
        return Long.parseLong(required("Seed"));
    }

    /** Width from {@code Size}. */
    public int width() {
        return Integer.parseInt(size().group(1));
    }

    /** Height from {@code Size}. */
    public int height() {
        return Integer.parseInt(size().group(2));
    }

    /** {@code Model hash}. */
    public String modelHash() {
        return required("Model hash");
    }

    /** {@code Model}. */
    public String model() {
        return required("Model");
    }

    /** {@code Denoising strength}, or null for text-to-image. */
    public Double denoisingStrength() {
        String v = params.get("Denoising strength");
        return v == null ? null : Double.parseDouble(v);
    }

    /** {@code Clip skip} in A1111's counting (1 = none), empty when absent. */
    public OptionalInt clipSkip() {
        String v = params.get("Clip skip");
        return v == null ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(v));
    }

    private Matcher size() {
        Matcher m = IMAGE_SIZE.matcher(required("Size"));
        if (!m.matches()) {
            throw new IllegalArgumentException("Size " + params.get("Size") + " is not WxH");
        }
        return m;
    }

    private String required(String key) {
        String v = params.get(key);
        if (v == null) {
            throw new IllegalArgumentException(
                    "infotext has no " + key + "; keys: " + params.keySet());
        }
        return v;
    }

    private static int countParams(String line) {
        int n = 0;
        Matcher m = PARAM.matcher(line);
        while (m.find()) {
            n++;
        }
        return n;
    }

    /**
     * A1111 {@code infotext_utils.quote}: JSON-quote a value containing {@code ,}, {@code :} or a
     * newline.
     */
    public static String quote(String text) {
        if (text.indexOf(',') < 0 && text.indexOf('\n') < 0 && text.indexOf(':') < 0) {
            return text;
        }
        StringBuilder sb = new StringBuilder();
        SchedulerConfigJson.writeString(text, sb);
        return sb.toString();
    }

    /** A1111 {@code infotext_utils.unquote}: JSON-decode a quoted value, else return it as is. */
    public static String unquote(String text) {
        if (text.isEmpty() || text.charAt(0) != '"' || text.charAt(text.length() - 1) != '"') {
            return text;
        }
        try {
            JsonElement el = JsonParser.parseString(text);
            if (el.isJsonPrimitive() && el.getAsJsonPrimitive().isString()) {
                return el.getAsString();
            }
        } catch (RuntimeException e) {
            // A1111 falls back to the raw text on any JSON error; so do we.
        }
        return text;
    }

    /**
     * A double as Python's {@code str(float)} writes the usual values: integral values with {@code
     * .0} ({@code 7.0}), others as the shortest plain decimal ({@code 7.5}).
     */
    static String pythonFloat(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e16) {
            return (long) v + ".0";
        }
        return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
