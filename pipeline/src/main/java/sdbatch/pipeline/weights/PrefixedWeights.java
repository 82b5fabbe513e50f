package sdbatch.pipeline.weights;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Set;
import java.util.TreeSet;

/** A view of another {@link Weights} under a key prefix. */
record PrefixedWeights(Weights root, String prefix) implements Weights {
    @Override
    public NDArray get(String key, Shape expected) {
        return root.get(prefix + "." + key, expected);
    }

    @Override
    public boolean contains(String key) {
        return root.contains(prefix + "." + key);
    }

    @Override
    public Weights prefix(String sub) {
        return new PrefixedWeights(root, prefix + "." + sub);
    }

    @Override
    public <C extends DerivedCache> C derived(C cache) {
        return root.derived(cache);
    }

    @Override
    public Set<String> keys() {
        Set<String> out = new TreeSet<>();
        String p = prefix + ".";
        for (String k : root.keys()) {
            if (k.startsWith(p)) {
                out.add(k.substring(p.length()));
            }
        }
        return out;
    }
}
