package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import java.util.List;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.models.layers.LayerNorm;
import sdbatch.pipeline.weights.Weights;

/**
 * The blocks of {@link CLIPTextModel}, named and nested as in transformers' {@code
 * modeling_clip.py}; each asks for its parameters by their state-dict key relative to its prefix.
 */
final class CLIPTextBlocks {
    private CLIPTextBlocks() {}

    /** A weight source under a key prefix that records every array it hands out. */
    record Params(Weights weights, List<NDArray> sink) {
        Params prefix(String p) {
            return new Params(weights.prefix(p), sink);
        }

        NDArray get(String key, long... shape) {
            NDArray a = weights.get(key, new Shape(shape));
            sink.add(a);
            return a;
        }
    }

    /** {@code nn.Linear}: {@code x @ weight.T + bias}. */
    static final class CLIPLinear {
        final NDArray weight;
        final NDArray bias;

        CLIPLinear(Params p, long in, long out) {
            weight = p.get("weight", out, in);
            bias = p.get("bias", out);
        }

        NDArray forward(NDArray x) {
            return x.getNDArrayInternal().linear(x, weight, bias).singletonOrThrow();
        }
    }

    /** {@code nn.LayerNorm(hidden_size, eps=layer_norm_eps)}. */
    static LayerNorm layerNorm(CLIPTextConfig c, Params p) {
        return new LayerNorm(
                p.get("weight", c.hiddenSize()), p.get("bias", c.hiddenSize()), c.layerNormEps());
    }

    /** {@code CLIPTextEmbeddings}: token embedding plus learned absolute position embedding. */
    static final class CLIPTextEmbeddings {
        // Grown by textual-inversion tokens after loading (CLIPTextModel.appendTokenEmbeddings).
        volatile NDArray tokenEmbedding;
        final NDArray positionEmbedding;

        CLIPTextEmbeddings(CLIPTextConfig c, Params p) {
            tokenEmbedding = p.get("token_embedding.weight", c.vocabSize(), c.hiddenSize());
            positionEmbedding =
                    p.get("position_embedding.weight", c.maxPositionEmbeddings(), c.hiddenSize());
        }

        /**
         * Makes {@code tokenEmbedding} the old rows followed by {@code rows} (in its dtype, on its
         * device and manager) and returns it; the caller frees the old one.
         *
         * @throws IllegalArgumentException if a row is not {@code hidden_size} wide
         */
        NDArray appendTokens(float[][] rows) {
            NDArray old = tokenEmbedding;
            int width = (int) old.getShape().get(1);
            float[] flat = new float[rows.length * width];
            for (int i = 0; i < rows.length; i++) {
                if (rows[i].length != width) {
                    throw new IllegalArgumentException(
                            "token embedding row "
                                    + i
                                    + " is "
                                    + rows[i].length
                                    + " wide; the text encoder's hidden_size is "
                                    + width);
                }
                System.arraycopy(rows[i], 0, flat, i * width, width);
            }
            NDManager m = old.getManager();
            NDArray grown;
            try (NDManager scratch = m.newSubManager()) {
                NDArray added =
                        scratch.create(flat, new Shape(rows.length, width))
                                .toType(old.getDataType(), false);
                grown = old.concat(added.toDevice(old.getDevice(), false), 0);
                grown.attach(m);
            }
            NDScope.unregister(grown);
            tokenEmbedding = grown;
            return grown;
        }

        // Port of transformers modeling_clip.CLIPTextEmbeddings.forward (position_ids = arange(L)).
        NDArray forward(NDArray ids) {
            long len = ids.getShape().get(1);
            NDArray tokens =
                    ids.getNDArrayInternal()
                            .embedding(ids, tokenEmbedding, SparseFormat.DENSE)
                            .singletonOrThrow();
            NDArray positions = positionEmbedding.get(new NDIndex("0:{}", len));
            return tokens.add(positions);
        }
    }

    /** {@code CLIPAttention}: multi-head self-attention with a causal mask. */
    static final class CLIPAttention {
        final CLIPLinear qProj;
        final CLIPLinear kProj;
        final CLIPLinear vProj;
        final CLIPLinear outProj;
        final int heads;
        final int headDim;
        final float scale;

        CLIPAttention(CLIPTextConfig c, Params p) {
            int h = c.hiddenSize();
            kProj = new CLIPLinear(p.prefix("k_proj"), h, h);
            vProj = new CLIPLinear(p.prefix("v_proj"), h, h);
            qProj = new CLIPLinear(p.prefix("q_proj"), h, h);
            outProj = new CLIPLinear(p.prefix("out_proj"), h, h);
            heads = c.numAttentionHeads();
            headDim = c.headDim();
            scale = (float) (1.0 / Math.sqrt(headDim));
        }

        // Port of transformers modeling_clip.CLIPAttention.forward (eager path: softmax(q k^T *
        // scale + causal_mask) v), with the queries optionally split into chunks.
        NDArray forward(NDArray x, NDArray mask, long chunkElements) {
            Shape s = x.getShape();
            long batch = s.get(0);
            long len = s.get(1);
            NDArray q = splitHeads(qProj.forward(x), batch, len);
            NDArray k = splitHeads(kProj.forward(x), batch, len);
            NDArray v = splitHeads(vProj.forward(x), batch, len);
            NDArray kT = k.transpose(0, 1, 3, 2);
            long perQueryRow = batch * heads * len;
            long chunk = Math.max(1, Math.min(len, chunkElements / perQueryRow));
            NDArray context;
            if (chunk >= len) {
                context = attend(q, kT, v, mask);
            } else {
                NDList parts = new NDList();
                for (long start = 0; start < len; start += chunk) {
                    long end = Math.min(len, start + chunk);
                    // A nested scope frees each chunk's scores before the next chunk runs.
                    try (NDScope chunkScope = new NDScope()) {
                        NDArray part =
                                attend(
                                        q.get(new NDIndex(":, :, {}:{}", start, end)),
                                        kT,
                                        v,
                                        mask.get(new NDIndex("{}:{}", start, end)));
                        NDScope.unregister(part);
                        parts.add(part);
                    }
                    // Back into the enclosing scope, which frees it with the call's temporaries.
                    NDScope.register(parts.get(parts.size() - 1));
                }
                context = NDArrays.concat(parts, 2);
            }
            NDArray merged =
                    context.transpose(0, 2, 1, 3).reshape(batch, len, (long) heads * headDim);
            return outProj.forward(merged);
        }

        private NDArray splitHeads(NDArray t, long batch, long len) {
            return t.reshape(batch, len, heads, headDim).transpose(0, 2, 1, 3);
        }

        private NDArray attend(NDArray q, NDArray kT, NDArray v, NDArray mask) {
            NDArray scores = q.mul(scale).matMul(kT).add(mask);
            NDArray probs;
            DataType t = scores.getDataType();
            if (t == DataType.FLOAT16 || t == DataType.BFLOAT16) {
                // Half-precision softmax loses the small probabilities; compute it in float32.
                probs = scores.toType(DataType.FLOAT32, false).softmax(-1).toType(t, false);
            } else {
                probs = scores.softmax(-1);
            }
            return probs.matMul(v);
        }
    }

    /** {@code CLIPMLP}: fc1, activation, fc2. */
    static final class CLIPMLP {
        final CLIPLinear fc1;
        final CLIPLinear fc2;
        final String act;

        CLIPMLP(CLIPTextConfig c, Params p) {
            fc1 = new CLIPLinear(p.prefix("fc1"), c.hiddenSize(), c.intermediateSize());
            fc2 = new CLIPLinear(p.prefix("fc2"), c.intermediateSize(), c.hiddenSize());
            act = c.hiddenAct();
        }

        NDArray forward(NDArray x) {
            return fc2.forward(activation(act, fc1.forward(x)));
        }
    }

    /**
     * transformers' {@code ACT2FN[name]} for the activations CLIP text configs use: {@code
     * quick_gelu} x·σ(1.702x) (OpenAI CLIP), {@code gelu} the exact erf form (torch's default
     * {@code F.gelu}), {@code gelu_new}/{@code gelu_pytorch_tanh} the tanh approximation.
     */
    static NDArray activation(String name, NDArray x) {
        return switch (name) {
            case "quick_gelu" -> x.mul(Activation.sigmoid(x.mul(1.702f)));
            case "gelu" -> Activation.gelu(x);
            case "gelu_new", "gelu_pytorch_tanh" -> {
                NDArray inner = x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2 / Math.PI));
                yield x.mul(0.5f).mul(inner.tanh().add(1f));
            }
            default ->
                    throw new IllegalArgumentException(
                            "hidden_act \""
                                    + name
                                    + "\" is not supported (supported: "
                                    + CLIPTextConfig.SUPPORTED_ACTIVATIONS
                                    + ")");
        };
    }

    /** {@code CLIPEncoderLayer}: pre-LayerNorm self-attention and MLP, each with a residual. */
    static final class CLIPEncoderLayer {
        final LayerNorm layerNorm1;
        final CLIPAttention selfAttn;
        final LayerNorm layerNorm2;
        final CLIPMLP mlp;

        CLIPEncoderLayer(CLIPTextConfig c, Params p) {
            selfAttn = new CLIPAttention(c, p.prefix("self_attn"));
            layerNorm1 = layerNorm(c, p.prefix("layer_norm1"));
            mlp = new CLIPMLP(c, p.prefix("mlp"));
            layerNorm2 = layerNorm(c, p.prefix("layer_norm2"));
        }

        // Port of transformers modeling_clip.CLIPEncoderLayer.forward.
        NDArray forward(NDArray hidden, NDArray mask, long chunkElements) {
            NDArray residual = hidden;
            NDArray h = layerNorm1.forward(hidden);
            h = selfAttn.forward(h, mask, chunkElements);
            h = residual.add(h);
            residual = h;
            h = layerNorm2.forward(h);
            h = mlp.forward(h);
            return residual.add(h);
        }
    }

    /**
     * {@code [L, L]}: 0 where a query may see a key (key position &lt;= query position), the
     * dtype's lowest finite value elsewhere, as transformers' causal mask (finite, so a row never
     * becomes NaN even if a score overflows).
     */
    static NDArray causalMask(long seqLen, DataType dtype, NDManager mgr) {
        int n = (int) seqLen;
        float lowest = lowestFinite(dtype);
        float[] m = new float[n * n];
        for (int q = 0; q < n; q++) {
            for (int k = q + 1; k < n; k++) {
                m[q * n + k] = lowest;
            }
        }
        return mgr.create(m, new Shape(n, n)).toType(dtype, false);
    }

    private static float lowestFinite(DataType t) {
        return switch (t) {
            case FLOAT16 -> -65504f;
            case BFLOAT16 -> Float.intBitsToFloat(0xFF7F0000);
            default -> -Float.MAX_VALUE;
        };
    }
}
