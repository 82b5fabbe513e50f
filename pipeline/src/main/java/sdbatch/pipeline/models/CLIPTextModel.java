package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import sdbatch.pipeline.config.CLIPTextConfig;
import sdbatch.pipeline.models.CLIPTextBlocks.CLIPEncoderLayer;
import sdbatch.pipeline.models.CLIPTextBlocks.CLIPTextEmbeddings;
import sdbatch.pipeline.models.CLIPTextBlocks.Params;
import sdbatch.pipeline.models.layers.InnerScope;
import sdbatch.pipeline.models.layers.LayerNorm;
import sdbatch.pipeline.weights.LiveParameters;
import sdbatch.pipeline.weights.ModelLoadException;
import sdbatch.pipeline.weights.Weights;

/**
 * The Stable Diffusion text encoder: transformers' {@code CLIPTextModel} (a causal pre-LayerNorm
 * transformer over CLIP BPE ids) on DJL NDArray operations.
 *
 * <p>The object tree mirrors the checkpoint: {@code embeddings.token_embedding}, {@code
 * embeddings.position_embedding}, {@code encoder.layers.<i>.{layer_norm1, self_attn.{q,k,v,
 * out}_proj, layer_norm2, mlp.fc1, mlp.fc2}}, {@code final_layer_norm}. Weights are asked for by
 * those exact keys, under the {@code text_model.} prefix when the checkpoint has it (SD 1.x/2.x
 * checkpoints, transformers 4) or without it (transformers 5); the non-persistent {@code
 * position_ids} buffer that old checkpoints carry is ignored.
 *
 * <p>Contract: {@link #encode} takes token ids {@code [B, L]} (L at most {@code
 * max_position_embeddings}, SD uses 77) and returns the hidden states {@code [B, L, hidden]} that
 * diffusers feeds the UNet, in the weights' dtype, attached to the ids' manager (the caller closes
 * it). Every temporary of a call is closed before it returns, so native memory stays flat across
 * calls. Attention is causal and unpadded, as in SD (diffusers passes no attention mask for SD's
 * text encoders). One instance may serve calls from several threads; {@link #close()} releases the
 * weights and must not race with calls.
 */
public final class CLIPTextModel implements AutoCloseable {

    /**
     * Default ceiling on the elements of one attention score matrix {@code B*heads*Lq*Lk}; larger
     * problems are computed in query chunks (same result). 2^26 floats = 256 MiB in float32.
     */
    public static final long ATTENTION_CHUNK_ELEMENTS_DEFAULT = 1L << 26;

    private static final String TEXT_MODEL_PREFIX = "text_model";

    private final CLIPTextConfig config;
    private final CLIPTextEmbeddings embeddings;
    private final CLIPEncoderLayer[] layers;
    private final LayerNorm finalLayerNorm;
    private final List<NDArray> parameters;
    private final DataType dtype;
    private final NDManager ownedManager;
    private final LiveParameters live;
    private volatile long attentionChunkElements = ATTENTION_CHUNK_ELEMENTS_DEFAULT;

    /**
     * Builds the model from a config and a weight source. The model owns the arrays it takes from
     * {@code weights} and closes them in {@link #close()}.
     *
     * <p>If {@code weights} holds {@code text_model.embeddings.token_embedding.weight}, every key
     * is read under {@code text_model.}; otherwise keys are read as they are.
     */
    public CLIPTextModel(CLIPTextConfig config, Weights weights) {
        this(config, weights, null, new LiveParameters("text_encoder", null, null));
    }

    /**
     * @param weights the component's weights, already a {@link LiveParameters#recording} view of
     *     {@code live} where {@code live} is restorable
     * @param ownedManager the manager a load made for the weights (closed with the model), or null
     */
    CLIPTextModel(
            CLIPTextConfig config, Weights weights, NDManager ownedManager, LiveParameters live) {
        this.config = config;
        this.ownedManager = ownedManager;
        this.live = live;
        Weights root =
                weights.contains(TEXT_MODEL_PREFIX + ".embeddings.token_embedding.weight")
                        ? weights.prefix(TEXT_MODEL_PREFIX)
                        : weights;
        Params p = new Params(root, new ArrayList<>());
        this.parameters = p.sink();
        this.embeddings = new CLIPTextEmbeddings(config, p.prefix("embeddings"));
        this.layers = new CLIPEncoderLayer[config.numHiddenLayers()];
        Params encoder = p.prefix("encoder");
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new CLIPEncoderLayer(config, encoder.prefix("layers." + i));
        }
        this.finalLayerNorm = CLIPTextBlocks.layerNorm(config, p.prefix("final_layer_norm"));
        this.dtype = finalLayerNorm.weight().getDataType();
    }

    /**
     * Loads {@code text_encoder/config.json} and the safetensors weights of the folder, in a
     * sub-manager of {@code manager} (so on its device), converted to {@code dtype}.
     *
     * @param dtype float32 (the default of SD on CPU), float16 or float64; bfloat16 is refused
     *     because DJL 0.36's PyTorch engine aborts the JVM on bfloat16 arrays
     * @throws ModelLoadException for a bad config, or one error listing every missing, unexpected
     *     and misshapen tensor
     * @throws IOException if a file cannot be read
     */
    public static CLIPTextModel load(Path textEncoderDir, NDManager manager, DataType dtype)
            throws IOException {
        return load(textEncoderDir, manager, dtype, "text_encoder");
    }

    /**
     * {@link #load(Path, NDManager, DataType)} for the diffusers component {@code component} (its
     * name in LoRA files and messages: {@code text_encoder}, {@code text_encoder_2}).
     */
    public static CLIPTextModel load(
            Path textEncoderDir, NDManager manager, DataType dtype, String component)
            throws IOException {
        return CLIPTextLoading.load(
                textEncoderDir,
                manager,
                dtype,
                component,
                (config, w, owned, live) -> new CLIPTextModel(config, w, owned, live));
    }

    /**
     * The encoder's parameters by state-dict key: what a LoRA merge changes in place (and restores
     * from the folder).
     */
    public LiveParameters liveParameters() {
        return live;
    }

    /** Rows of the token embedding: {@code vocab_size}, plus the tokens added since loading. */
    public long tokenCount() {
        return embeddings.tokenEmbedding.getShape().get(0);
    }

    /**
     * Appends rows to the token embedding for tokens added to the tokenizer (textual inversion), as
     * transformers' {@code resize_token_embeddings} followed by writing the new rows: the ids
     * {@link #tokenCount()} .. {@code + rows.length - 1} then embed to these vectors. Call before
     * the model is shared; the old embedding is freed.
     *
     * @param rows one {@code hidden_size}-wide vector per new token
     * @throws IllegalArgumentException if a vector is not {@code hidden_size} wide
     */
    public synchronized void appendTokenEmbeddings(float[][] rows) {
        NDArray old = embeddings.tokenEmbedding;
        NDArray grown = embeddings.appendTokens(rows);
        parameters.set(parameters.indexOf(old), grown);
        old.close();
        // Its file no longer holds these values: a LoRA may not restore it.
        live.forget(
                live.keys().stream()
                        .filter(k -> k.endsWith("embeddings.token_embedding.weight"))
                        .findFirst()
                        .orElse(""));
    }

    /** The parsed configuration. */
    public CLIPTextConfig config() {
        return config;
    }

    /** Encoder layers; a {@code clipSkip} must be smaller. */
    public int numHiddenLayers() {
        return layers.length;
    }

    /** Width of the hidden states {@link #encode} returns (the UNet's cross-attention width). */
    public int hiddenSize() {
        return config.hiddenSize();
    }

    /** The dtype of the weights and of the outputs. */
    public DataType dtype() {
        return dtype;
    }

    /**
     * Sets the ceiling on the elements of one attention score matrix before attention runs in query
     * chunks. Chunking changes memory use only, not the result.
     */
    public void setAttentionChunkElements(long elements) {
        if (elements < 1) {
            throw new IllegalArgumentException(
                    "attention chunk elements must be at least 1, got " + elements);
        }
        this.attentionChunkElements = elements;
    }

    /** The current attention chunk ceiling (elements of one score matrix). */
    public long attentionChunkElements() {
        return attentionChunkElements;
    }

    /**
     * Checks a {@code clip_skip} value against this model.
     *
     * @throws IllegalArgumentException naming the value and the rule
     */
    public void checkClipSkip(int clipSkip) {
        if (clipSkip < 0 || clipSkip >= layers.length) {
            throw new IllegalArgumentException(
                    "clip_skip "
                            + clipSkip
                            + " is out of range: it must be at least 0 and less than the text"
                            + " encoder's num_hidden_layers ("
                            + layers.length
                            + ")");
        }
    }

    /** {@link #encode(NDArray, int)} with {@code clipSkip} 0: the last hidden state. */
    public NDArray encode(NDArray inputIds) {
        return encode(inputIds, 0);
    }

    /**
     * The prompt embeddings diffusers' {@code encode_prompt} computes.
     *
     * <p>{@code clipSkip} 0 gives {@code last_hidden_state} (all layers, then {@code
     * final_layer_norm}). {@code clipSkip} k &gt; 0 gives {@code hidden_states[-(k + 1)]} (the
     * output of the layer k before the last) passed through {@code final_layer_norm}, as diffusers
     * does for {@code clip_skip=k}; the layers after it are not run.
     *
     * @param inputIds integer token ids {@code [B, L]}, each in {@code [0, vocab_size)}
     * @return {@code [B, L, hidden_size]} in {@link #dtype()}, attached to {@code inputIds}'
     *     manager
     */
    // Port of diffusers pipeline_stable_diffusion.StableDiffusionPipeline.encode_prompt (the
    // text-encoder call) over transformers modeling_clip.CLIPTextTransformer.forward.
    public NDArray encode(NDArray inputIds, int clipSkip) {
        checkClipSkip(clipSkip);
        checkIds(inputIds);
        NDArray out =
                InnerScope.keep(
                        () ->
                                finalLayerNorm.forward(
                                        transformer(
                                                inputIds, layers.length - clipSkip, new NDList())));
        out.attach(inputIds.getManager());
        return out;
    }

    /**
     * transformers' {@code CLIPTextModel(input_ids, output_hidden_states=True)}: the last hidden
     * state, the pooled output and every hidden state. SDXL and SD3 take their sequence embeddings
     * from {@code hidden_states[-(clip_skip + 2)]}, which is not passed through {@code
     * final_layer_norm}, unlike {@link #encode(NDArray, int)}.
     *
     * @param inputIds integer token ids {@code [B, L]}, each in {@code [0, vocab_size)}
     * @return arrays in {@link #dtype()}, attached to {@code inputIds}' manager
     */
    // Port of transformers modeling_clip.CLIPTextTransformer.forward.
    public CLIPTextModelOutput forward(NDArray inputIds) {
        checkIds(inputIds);
        // [last hidden state, hidden states...]
        NDList out =
                InnerScope.keepAll(
                        () -> {
                            NDList states = new NDList(layers.length + 1);
                            NDArray h = transformer(inputIds, layers.length, states);
                            return new NDList(finalLayerNorm.forward(h)).addAll(states);
                        });
        out.attach(inputIds.getManager());
        NDArray last = out.get(0);
        return new CLIPTextModelOutput(last, pooledOutput(last, inputIds), out.subNDList(1));
    }

    /**
     * The embeddings, then the first {@code count} encoder layers under the causal mask; the
     * embeddings and each layer's output are added to {@code hiddenStates}.
     */
    // Port of transformers modeling_clip.CLIPTextTransformer.forward up to final_layer_norm.
    private NDArray transformer(NDArray inputIds, int count, NDList hiddenStates) {
        NDArray ids = inputIds.toDevice(finalLayerNorm.weight().getDevice(), false);
        NDArray hidden = embeddings.forward(ids.toType(DataType.INT64, false));
        hiddenStates.add(hidden);
        long seqLen = inputIds.getShape().get(1);
        NDArray mask =
                CLIPTextBlocks.causalMask(seqLen, dtype, finalLayerNorm.weight().getManager());
        for (int i = 0; i < count; i++) {
            hidden = layers[i].forward(hidden, mask, attentionChunkElements);
            hiddenStates.add(hidden);
        }
        return hidden;
    }

    /**
     * transformers' {@code pooler_output}: for each row, the last hidden state at the end-of-text
     * token. With the legacy {@code eos_token_id} 2 (old configs) the position is that of the
     * largest id (the eos id is the largest in CLIP's vocabulary); otherwise the first position
     * holding {@code eos_token_id} (0 if none), exactly as transformers picks it.
     *
     * @param lastHiddenState {@code [B, L, hidden]} from {@link #encode(NDArray)}
     * @param inputIds the ids it was computed from, {@code [B, L]}
     * @return {@code [B, hidden]}, attached to {@code lastHiddenState}'s manager
     */
    // Port of transformers modeling_clip.CLIPTextTransformer.forward (pooled_output).
    public NDArray pooledOutput(NDArray lastHiddenState, NDArray inputIds) {
        checkIds(inputIds);
        Shape hs = lastHiddenState.getShape();
        Shape is = inputIds.getShape();
        if (hs.dimension() != 3 || hs.get(0) != is.get(0) || hs.get(1) != is.get(1)) {
            throw new IllegalArgumentException(
                    "lastHiddenState " + hs + " does not match inputIds " + is);
        }
        int batch = (int) is.get(0);
        int len = (int) is.get(1);
        NDArray out =
                InnerScope.keep(
                        () -> {
                            long[] ids = inputIds.toType(DataType.INT64, false).toLongArray();
                            NDList rows = new NDList(batch);
                            for (int b = 0; b < batch; b++) {
                                rows.add(lastHiddenState.get(b, eosPosition(ids, b * len, len)));
                            }
                            return NDArrays.stack(rows);
                        });
        out.attach(lastHiddenState.getManager());
        return out;
    }

    /** The end-of-text position in the row of {@code len} ids at {@code start} (see above). */
    private int eosPosition(long[] ids, int start, int len) {
        if (config.eosTokenId() == 2) {
            int pos = 0; // argmax: the first of the largest ids
            for (int i = 1; i < len; i++) {
                if (ids[start + i] > ids[start + pos]) {
                    pos = i;
                }
            }
            return pos;
        }
        for (int i = 0; i < len; i++) {
            if (ids[start + i] == config.eosTokenId()) {
                return i;
            }
        }
        return 0;
    }

    private void checkIds(NDArray inputIds) {
        Shape s = inputIds.getShape();
        if (s.dimension() != 2 || s.get(0) < 1 || s.get(1) < 1) {
            throw new IllegalArgumentException(
                    "inputIds must have shape [batch, length], got " + s);
        }
        if (s.get(1) > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException(
                    "inputIds length "
                            + s.get(1)
                            + " exceeds the text encoder's max_position_embeddings "
                            + config.maxPositionEmbeddings());
        }
        DataType t = inputIds.getDataType();
        if (t != DataType.INT64 && t != DataType.INT32) {
            throw new IllegalArgumentException("inputIds must be int32 or int64, got " + t);
        }
        long vocabSize = embeddings.tokenEmbedding.getShape().get(0);
        long[] ids;
        try (NDScope scope = new NDScope()) {
            ids = inputIds.toType(DataType.INT64, false).toLongArray();
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException(
                        "inputIds["
                                + i / s.get(1)
                                + ", "
                                + i % s.get(1)
                                + "] = "
                                + ids[i]
                                + " is outside the vocabulary [0, "
                                + vocabSize
                                + ")");
            }
        }
    }

    /** Releases the weights (and the manager {@link #load} made for them). */
    @Override
    public void close() {
        for (NDArray p : parameters) {
            p.close();
        }
        if (ownedManager != null) {
            ownedManager.close();
        }
    }
}
