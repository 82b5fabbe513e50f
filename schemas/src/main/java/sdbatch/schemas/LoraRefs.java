package sdbatch.schemas;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The written forms of LoRA references, parsed: the {@code loras} column and {@code --lora} flag
 * ({@code URI[:weight]} items separated by {@code ;}) and AUTOMATIC1111's {@code
 * <lora:NAME:WEIGHT>} prompt tags.
 */
public final class LoraRefs {
    private LoraRefs() {}

    /**
     * One LoRA as written.
     *
     * @param location the file's path or URI (a tag's NAME for {@link #extractTags})
     * @param weight its weight, finite
     */
    public record Ref(String location, double weight) {}

    /**
     * A prompt with its LoRA tags taken out.
     *
     * @param prompt the prompt without the tags (A1111 removes exactly the tag text)
     * @param tags the tags' names and weights, in prompt order
     */
    public record Extracted(String prompt, List<Ref> tags) {}

    /** A1111's extra-network syntax ({@code re_extra_net}), restricted to {@code lora}. */
    private static final Pattern TAG = Pattern.compile("<lora:([^>]+)>");

    /**
     * Parses a {@code loras} cell or one {@code --lora} value: items separated by {@code ;}, each
     * {@code URI[:weight]}. The weight is the text after the last {@code :} when it parses as a
     * number (URIs hold colons: {@code s3a://b/x.safetensors} has no weight, {@code
     * C:/l.safetensors:0.5} has 0.5); otherwise the whole item is the location at weight 1. Blank
     * items are skipped.
     *
     * @throws IllegalArgumentException naming the item, for an empty location or a weight that is
     *     not finite
     */
    public static List<Ref> parse(String text) {
        List<Ref> out = new ArrayList<>();
        for (String raw : text.split(";", -1)) {
            String item = raw.strip();
            if (item.isEmpty()) {
                continue;
            }
            String location = item;
            double weight = 1.0;
            int colon = item.lastIndexOf(':');
            if (colon >= 0) {
                Double w = number(item.substring(colon + 1).strip());
                if (w != null) {
                    location = item.substring(0, colon).strip();
                    weight = w;
                }
            }
            if (location.isEmpty()) {
                throw new IllegalArgumentException("item '" + item + "' names no LoRA file");
            }
            if (!Double.isFinite(weight)) {
                throw new IllegalArgumentException(
                        "item '" + item + "' has weight " + weight + ", which is not finite");
            }
            out.add(new Ref(location, weight));
        }
        return out;
    }

    /**
     * Takes A1111's {@code <lora:NAME>} and {@code <lora:NAME:WEIGHT>} tags out of a prompt (weight
     * default 1, as A1111's {@code extra_networks_default_multiplier}).
     *
     * @throws IllegalArgumentException naming the tag, for one with more fields (A1111's separate
     *     text-encoder and UNet weights, which a merged set cannot express) or a weight that is not
     *     a finite number
     */
    public static Extracted extractTags(String prompt) {
        Matcher m = TAG.matcher(prompt);
        List<Ref> tags = new ArrayList<>();
        StringBuilder rest = new StringBuilder();
        while (m.find()) {
            String[] fields = m.group(1).split(":", -1);
            String name = fields[0].strip();
            Double w = fields.length == 2 ? number(fields[1].strip()) : Double.valueOf(1.0);
            if (name.isEmpty() || fields.length > 2 || w == null || !Double.isFinite(w)) {
                throw new IllegalArgumentException(
                        "tag "
                                + m.group()
                                + " is not <lora:NAME> or <lora:NAME:WEIGHT> with a finite"
                                + " number as weight");
            }
            tags.add(new Ref(name, w));
            m.appendReplacement(rest, "");
        }
        m.appendTail(rest);
        return new Extracted(tags.isEmpty() ? prompt : rest.toString(), tags);
    }

    private static final Pattern NUMBER =
            Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private static Double number(String s) {
        return NUMBER.matcher(s).matches() ? Double.parseDouble(s) : null;
    }
}
