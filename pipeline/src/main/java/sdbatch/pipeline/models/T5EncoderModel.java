package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.T5Config;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.Linear;
import sdbatch.pipeline.weights.Weights;

/**
 * transformers' {@code T5EncoderModel} (models/t5/modeling_t5.py), SD3's {@code text_encoder_3}:
 * the {@code shared} token embedding, {@code num_layers} blocks of pre-norm self-attention and
 * feed-forward with residuals, then {@code encoder.final_layer_norm}. T5's particulars: the
 * attention scores are not scaled by {@code 1/sqrt(d_kv)}; positions enter as a learned bias per
 * head and relative-distance bucket, computed by the first block's {@code relative_attention_bias}
 * and added in every block; the norms are {@code T5LayerNorm} (RMS, no mean subtraction, no bias);
 * T5 v1.1's feed-forward is gated ({@code gelu_new(wi_0 x) * wi_1 x}).
 *
 * <p>Field paths are the state-dict keys: {@code shared.weight}, {@code
 * encoder.block.<i>.layer.0.SelfAttention.{q,k,v,o}.weight}, {@code
 * encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight}, {@code
 * encoder.block.<i>.layer.0.layer_norm.weight}, {@code
 * encoder.block.<i>.layer.1.DenseReluDense.{wi_0,wi_1,wo}.weight} (or {@code wi}), {@code
 * encoder.block.<i>.layer.1.layer_norm.weight}, {@code encoder.final_layer_norm.weight}; a copy of
 * the embedding under {@code encoder.embed_tokens.weight} is read when present (tied to {@code
 * shared}).
 *
 * <p>diffusers calls it without an attention mask ({@code text_encoder_3(text_input_ids)[0]}), so
 * padding tokens are attended to, as here. Outputs belong to the ids' manager; temporaries are
 * closed before a call returns; thread-safe for concurrent {@link #forward} calls.
 */
public final class T5EncoderModel extends PretrainedModel<T5Config> {
    private final NDArray shared;
    private final NDArray relativeAttentionBias;
    private final List<Block> blocks = new ArrayList<>();
    private final NDArray finalLayerNorm;

    /** One {@code T5Block} of the encoder: self-attention layer, then feed-forward layer. */
    private static final class Block {
        final NDArray attnNorm;
        final Linear q;
        final Linear k;
        final Linear v;
        final Linear o;
        final NDArray ffNorm;
        final Linear wi0;
        final Linear wi1;
        final Linear wo;

        Block(Weights w, T5Config c) {
            int inner = c.numHeads() * c.dKv();
            Weights attn = w.prefix("layer.0");
            Weights sa = attn.prefix("SelfAttention");
            q = new Linear(sa.prefix("q"), c.dModel(), inner, false);
            k = new Linear(sa.prefix("k"), c.dModel(), inner, false);
            v = new Linear(sa.prefix("v"), c.dModel(), inner, false);
            o = new Linear(sa.prefix("o"), inner, c.dModel(), false);
            attnNorm = attn.prefix("layer_norm").get("weight", new Shape(c.dModel()));
            Weights ff = w.prefix("layer.1");
            Weights dense = ff.prefix("DenseReluDense");
            if (c.isGatedAct()) {
                wi0 = new Linear(dense.prefix("wi_0"), c.dModel(), c.dFf(), false);
                wi1 = new Linear(dense.prefix("wi_1"), c.dModel(), c.dFf(), false);
            } else {
                wi0 = new Linear(dense.prefix("wi"), c.dModel(), c.dFf(), false);
                wi1 = null;
            }
            wo = new Linear(dense.prefix("wo"), c.dFf(), c.dModel(), false);
            ffNorm = ff.prefix("layer_norm").get("weight", new Shape(c.dModel()));
        }
    }

    /**
     * Loads {@code config.json} and the safetensors weights of a {@code T5EncoderModel} folder into
     * a sub-manager of {@code manager}, converted to {@code dtype}.
     *
     * @throws sdbatch.pipeline.weights.ModelLoadException for a bad config, or one error listing
     *     every missing, unexpected and misshapen tensor
     * @throws IOException if a file cannot be read
     */
    public static T5EncoderModel load(Path dir, NDManager manager, DataType dtype)
            throws IOException {
        return ModelParameters.load(dir, manager, dtype, T5Config::load, T5EncoderModel::new);
    }

    /** Builds the encoder from its config, asking {@code weights} for every parameter by key. */
    // Port of transformers modeling_t5.T5EncoderModel.__init__ and T5Stack.__init__
    public T5EncoderModel(T5Config config, Weights weights) {
        super(config);
        Weights w = parameters.record(weights);
        Shape embedding = new Shape(config.vocabSize(), config.dModel());
        this.shared = w.get("shared.weight", embedding);
        if (w.contains("encoder.embed_tokens.weight")) {
            // the tied copy some checkpoints also store: same values, read so that it is expected
            w.get("encoder.embed_tokens.weight", embedding);
        }
        Weights encoder = w.prefix("encoder");
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(new Block(encoder.prefix("block", i), config));
        }
        // has_relative_attention_bias: only the first layer's attention
        this.relativeAttentionBias =
                encoder.prefix("block", 0)
                        .prefix("layer.0.SelfAttention")
                        .get(
                                "relative_attention_bias.weight",
                                new Shape(config.relativeAttentionNumBuckets(), config.numHeads()));
        this.finalLayerNorm = encoder.get("final_layer_norm.weight", new Shape(config.dModel()));
    }

    /**
     * {@code last_hidden_state} of {@code input_ids} [B, L]: [B, L, d_model], attached to the ids'
     * manager.
     */
    // Port of transformers modeling_t5.T5Stack.forward (encoder, no attention mask)
    public NDArray forward(NDArray inputIds) {
        NDArray out =
                InnerScope.keep(
                        () -> {
                            long len = inputIds.getShape().get(1);
                            NDArray ids = inputIds.toType(DataType.INT64, false);
                            NDArray hidden =
                                    ids.getNDArrayInternal()
                                            .embedding(ids, shared, SparseFormat.DENSE)
                                            .singletonOrThrow();
                            NDArray positionBias = computeBias(inputIds.getManager(), len);
                            for (Block b : blocks) {
                                hidden = block(b, hidden, positionBias);
                            }
                            return layerNorm(hidden, finalLayerNorm);
                        });
        out.attach(inputIds.getManager());
        return out;
    }

    private NDArray block(Block b, NDArray hidden, NDArray positionBias) {
        return InnerScope.keep(
                () -> {
                    // T5LayerSelfAttention: hidden + SelfAttention(layer_norm(hidden))
                    NDArray h =
                            hidden.add(attention(b, layerNorm(hidden, b.attnNorm), positionBias));
                    // T5LayerFF: hidden + DenseReluDense(layer_norm(hidden))
                    NDArray x = layerNorm(h, b.ffNorm);
                    NDArray act = activation(b.wi0.forward(x));
                    NDArray inner = b.wi1 != null ? act.mul(b.wi1.forward(x)) : act;
                    return h.add(b.wo.forward(inner));
                });
    }

    // Port of transformers modeling_t5.T5Attention.forward (self-attention, no mask, no cache)
    private NDArray attention(Block b, NDArray x, NDArray positionBias) {
        Shape s = x.getShape();
        long batch = s.get(0);
        long len = s.get(1);
        int heads = config.numHeads();
        int dKv = config.dKv();
        NDArray q = b.q.forward(x).reshape(batch, len, heads, dKv).transpose(0, 2, 1, 3);
        NDArray k = b.k.forward(x).reshape(batch, len, heads, dKv).transpose(0, 2, 1, 3);
        NDArray v = b.v.forward(x).reshape(batch, len, heads, dKv).transpose(0, 2, 1, 3);
        // no 1/sqrt(d_kv): T5's initialisation folds it into q
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).add(positionBias);
        NDArray weights = scores.toType(DataType.FLOAT32, false).softmax(-1);
        weights = weights.toType(scores.getDataType(), false);
        NDArray o = weights.matMul(v).transpose(0, 2, 1, 3).reshape(batch, len, (long) heads * dKv);
        return b.o.forward(o);
    }

    /** {@code [1, heads, L, L]}: the learned bias of each head at each relative distance. */
    // Port of transformers modeling_t5.T5Attention.compute_bias
    private NDArray computeBias(NDManager m, long len) {
        int n = (int) len;
        long[] buckets = new long[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                // relative_position = memory_position - query_position
                buckets[i * n + j] =
                        relativePositionBucket(
                                j - i,
                                config.relativeAttentionNumBuckets(),
                                config.relativeAttentionMaxDistance());
            }
        }
        NDArray idx = m.create(buckets, new Shape((long) n * n));
        // [L*L, heads] -> [heads, L, L] -> [1, heads, L, L]
        return idx.getNDArrayInternal()
                .embedding(idx, relativeAttentionBias, SparseFormat.DENSE)
                .singletonOrThrow()
                .reshape(n, n, config.numHeads())
                .transpose(2, 0, 1)
                .expandDims(0);
    }

    /**
     * The bucket of a relative position, bidirectional (the encoder): half the buckets for keys
     * after the query; exact buckets for distances below {@code num_buckets / 4}, logarithmic ones
     * up to {@code max_distance}, the last bucket beyond. The logarithm is taken in float32, as
     * torch does it, so that bucket boundaries fall where transformers' do.
     */
    // Port of transformers modeling_t5.T5Attention._relative_position_bucket
    static long relativePositionBucket(int relativePosition, int numBuckets, int maxDistance) {
        long bucket = 0;
        int half = numBuckets / 2;
        if (relativePosition > 0) {
            bucket += half;
        }
        int rp = Math.abs(relativePosition);
        int maxExact = half / 2;
        if (rp < maxExact) {
            return bucket + rp;
        }
        float ratio = (float) rp / (float) maxExact;
        float scaled =
                (float) Math.log(ratio)
                        / (float) Math.log((double) maxDistance / maxExact)
                        * (float) (half - maxExact);
        long large = maxExact + (long) scaled;
        return bucket + Math.min(large, half - 1);
    }

    /** {@code T5LayerNorm}: {@code weight * x / sqrt(mean(x²) + eps)}, the variance in float32. */
    // Port of transformers modeling_t5.T5LayerNorm.forward
    private NDArray layerNorm(NDArray x, NDArray weight) {
        NDArray variance = x.toType(DataType.FLOAT32, false).square().mean(new int[] {-1}, true);
        NDArray normed = x.div(variance.add((float) config.layerNormEpsilon()).sqrt());
        if (weight.getDataType() != DataType.FLOAT32) {
            normed = normed.toType(weight.getDataType(), false);
        }
        return weight.mul(normed);
    }

    /** The feed-forward activation ({@code dense_act_fn}). */
    private NDArray activation(NDArray x) {
        switch (config.denseActFn()) {
            case "gelu_new":
                {
                    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³)))
                    NDArray inner =
                            x.add(x.pow(3).mul(0.044715f)).mul((float) Math.sqrt(2.0 / Math.PI));
                    return x.mul(0.5f).mul(inner.tanh().add(1f));
                }
            case "gelu":
                return x.getNDArrayInternal().gelu();
            case "silu":
                return x.mul(x.getNDArrayInternal().sigmoid());
            case "relu":
                return x.maximum(0f);
            default:
                throw new IllegalStateException("dense_act_fn " + config.denseActFn());
        }
    }
}
