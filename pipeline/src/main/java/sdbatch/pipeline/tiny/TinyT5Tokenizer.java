package sdbatch.pipeline.tiny;

import static sdbatch.pipeline.tiny.TinyComponents.ints;
import static sdbatch.pipeline.tiny.TinyComponents.strings;
import static sdbatch.pipeline.tiny.TinyComponents.writeJson;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code tokenizer_3} folder of a tiny SD3 model ({@link TinySd3}): a T5-shaped Unigram {@code
 * tokenizer.json} in the layout transformers saves a T5 tokenizer in ({@code <pad>} 0, {@code </s>}
 * 1, {@code <unk>} 2, Metaspace, {@code </s>} appended) with a small vocabulary.
 */
final class TinyT5Tokenizer {
    /** Whole words of the T5 vocabulary (the rest of a prompt falls back to letters). */
    private static final String WORDS =
            "a an the of and in on with at photo photograph astronaut riding horse moon cat dog"
                    + " portrait woman man landscape mountains lake sunset city street night rain"
                    + " forest river castle dragon sea red blue green yellow black white light"
                    + " painting detailed highly cinematic lighting art watercolor sky clouds snow";

    private TinyT5Tokenizer() {}

    /**
     * A T5-shaped Unigram {@code tokenizer.json} and its {@code tokenizer_config.json}: special
     * tokens, "▁", the words of {@link #WORDS} after "▁", and single letters, digits and
     * punctuation (so any ASCII prompt tokenizes; other characters become {@code <unk>}).
     *
     * @return the vocabulary size
     */
    static int write(Path dir) throws IOException {
        Set<String> pieces = new LinkedHashSet<>();
        List<Double> scores = new ArrayList<>();
        for (String special : List.of("<pad>", "</s>", "<unk>")) {
            pieces.add(special);
            scores.add(0.0);
        }
        pieces.add("\u2581");
        scores.add(-3.0);
        for (String w : WORDS.split(" ")) {
            if (pieces.add("\u2581" + w)) {
                scores.add(-4.0 - 0.01 * scores.size());
            }
        }
        for (char ch = '!'; ch <= '~'; ch++) {
            if (pieces.add(String.valueOf(ch))) {
                scores.add(-10.0);
            }
        }
        JsonArray vocab = new JsonArray();
        int i = 0;
        for (String p : pieces) {
            JsonArray e = new JsonArray();
            e.add(p);
            e.add(scores.get(i++));
            vocab.add(e);
        }
        JsonObject model = new JsonObject();
        model.addProperty("type", "Unigram");
        model.addProperty("unk_id", 2);
        model.add("vocab", vocab);
        model.addProperty("byte_fallback", false);

        JsonArray added = new JsonArray();
        String[] special = {"<pad>", "</s>", "<unk>"};
        for (int id = 0; id < special.length; id++) {
            JsonObject t = new JsonObject();
            t.addProperty("id", id);
            t.addProperty("content", special[id]);
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        JsonObject metaspace = new JsonObject();
        metaspace.addProperty("type", "Metaspace");
        metaspace.addProperty("replacement", "\u2581");
        metaspace.addProperty("prepend_scheme", "always");
        metaspace.addProperty("split", true);
        JsonObject post = new JsonObject();
        post.addProperty("type", "TemplateProcessing");
        post.add("single", template("A"));
        JsonArray pair = template("A");
        pair.addAll(template("B"));
        post.add("pair", pair);
        JsonObject eos = new JsonObject();
        eos.addProperty("id", "</s>");
        eos.add("ids", ints(1));
        eos.add("tokens", strings("</s>"));
        JsonObject specials = new JsonObject();
        specials.add("</s>", eos);
        post.add("special_tokens", specials);

        JsonObject tok = new JsonObject();
        tok.addProperty("version", "1.0");
        tok.add("truncation", JsonNull.INSTANCE);
        tok.add("padding", JsonNull.INSTANCE);
        tok.add("added_tokens", added);
        tok.add("normalizer", JsonNull.INSTANCE);
        tok.add("pre_tokenizer", metaspace);
        tok.add("post_processor", post);
        tok.add("decoder", metaspace);
        tok.add("model", model);
        writeJson(dir.resolve("tokenizer.json"), tok);

        JsonObject config = new JsonObject();
        config.addProperty("eos_token", "</s>");
        config.addProperty("model_max_length", 512);
        config.addProperty("pad_token", "<pad>");
        config.addProperty("tokenizer_class", "T5Tokenizer");
        config.addProperty("unk_token", "<unk>");
        writeJson(dir.resolve("tokenizer_config.json"), config);
        return pieces.size();
    }

    /** {@code [$X, </s>]} of a TemplateProcessing. */
    private static JsonArray template(String sequence) {
        JsonObject seq = new JsonObject();
        JsonObject s = new JsonObject();
        s.addProperty("id", sequence);
        s.addProperty("type_id", 0);
        seq.add("Sequence", s);
        JsonObject end = new JsonObject();
        JsonObject e = new JsonObject();
        e.addProperty("id", "</s>");
        e.addProperty("type_id", 0);
        end.add("SpecialToken", e);
        JsonArray a = new JsonArray();
        a.add(seq);
        a.add(end);
        return a;
    }
}
