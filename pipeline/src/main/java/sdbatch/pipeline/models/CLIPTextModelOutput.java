package sdbatch.pipeline.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/**
 * transformers' {@code BaseModelOutputWithPooling} of a CLIP text model called with {@code
 * output_hidden_states=True}.
 *
 * @param lastHiddenState {@code [B, L, hidden]}: every layer, then {@code final_layer_norm}
 * @param pooledOutput {@code [B, hidden]}: the last hidden state at each row's end-of-text token
 * @param hiddenStates {@code num_hidden_layers + 1} arrays {@code [B, L, hidden]}: the embeddings,
 *     then each layer's output (no final layer norm), so {@code hiddenStates.get(size - 2)} is
 *     transformers' {@code hidden_states[-2]}
 */
public record CLIPTextModelOutput(
        NDArray lastHiddenState, NDArray pooledOutput, NDList hiddenStates) {

    /** transformers' {@code hidden_states[-k]}: {@code fromEnd} 1 is the last layer's output. */
    public NDArray hiddenStateFromEnd(int fromEnd) {
        if (fromEnd < 1 || fromEnd > hiddenStates.size()) {
            throw new IllegalArgumentException(
                    "hidden_states[-"
                            + fromEnd
                            + "] does not exist: the model has "
                            + hiddenStates.size()
                            + " hidden states (the embeddings and "
                            + (hiddenStates.size() - 1)
                            + " layers)");
        }
        return hiddenStates.get(hiddenStates.size() - fromEnd);
    }
}
