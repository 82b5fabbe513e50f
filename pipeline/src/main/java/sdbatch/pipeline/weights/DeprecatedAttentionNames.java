package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A view of one attention block's weights that also finds them under the names diffusers used
 * before 0.14, when such blocks were {@code AttentionBlock}: {@code query}, {@code key}, {@code
 * value} and {@code proj_attn} for today's {@code to_q}, {@code to_k}, {@code to_v} and {@code
 * to_out.0} ({@code group_norm} kept its name). VAE folders saved then still circulate; diffusers
 * renames their keys on load ({@code ModelMixin._fix_state_dict_keys_on_load}, for the blocks built
 * with {@code _from_deprecated_attn_block=True}), and so does this view, so the model's field paths
 * stay the new keys.
 *
 * <p>The old projections were {@code nn.Linear(channels, channels)}, so the shapes are those of the
 * new names: nothing is reshaped (a conv-shaped {@code [C, C, 1, 1]} tensor, the CompVis layout, is
 * a shape error here as in diffusers' folder loader). A key present under its new name is taken
 * from there; a checkpoint holding both names then reports the old one as unexpected.
 */
public final class DeprecatedAttentionNames implements Weights {
    /** Today's name → the pre-0.14 one, as key prefixes relative to the attention block. */
    private static final List<String[]> RENAMES =
            List.of(
                    new String[] {"to_q.", "query."},
                    new String[] {"to_k.", "key."},
                    new String[] {"to_v.", "value."},
                    new String[] {"to_out.0.", "proj_attn."});

    private final Weights delegate;

    private DeprecatedAttentionNames(Weights delegate) {
        this.delegate = delegate;
    }

    /**
     * The weights of an attention block that diffusers builds with {@code
     * _from_deprecated_attn_block=True} (the VAE's {@code UNetMidBlock2D} attentions).
     *
     * @param attentionBlock the view under the block's prefix ({@code ...mid_block.attentions.0})
     */
    public static Weights of(Weights attentionBlock) {
        return new DeprecatedAttentionNames(attentionBlock);
    }

    /** {@code key} under its pre-0.14 name, or null when the name did not change. */
    private static String oldName(String key) {
        for (String[] r : RENAMES) {
            if (key.startsWith(r[0])) {
                return r[1] + key.substring(r[0].length());
            }
        }
        return null;
    }

    /** {@code key} under today's name, or null when it is not a pre-0.14 name. */
    private static String newName(String key) {
        for (String[] r : RENAMES) {
            if (key.startsWith(r[1])) {
                return r[0] + key.substring(r[1].length());
            }
        }
        return null;
    }

    /** The key the checkpoint holds the tensor under: the new name unless only the old exists. */
    private String stored(String key) {
        String old = oldName(key);
        return old != null && !delegate.contains(key) && delegate.contains(old) ? old : key;
    }

    @Override
    public NDArray get(String key, Shape expected) {
        return delegate.get(stored(key), expected);
    }

    @Override
    public boolean contains(String key) {
        return delegate.contains(stored(key));
    }

    // prefix() is Weights' default: sub-views resolve their keys through this one (to_out.0.weight
    // is asked for as prefix("to_out").prefix("0").get("weight")), so renames apply to them too.

    @Override
    public Set<String> keys() {
        Set<String> out = new TreeSet<>();
        for (String k : delegate.keys()) {
            String renamed = newName(k);
            out.add(renamed == null ? k : renamed);
        }
        return out;
    }
}
