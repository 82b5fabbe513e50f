package sdbatch.pipeline.tokenizer;

/**
 * A token matched as a whole in the prompt before BPE (the special tokens and any added token),
 * with the flags of Hugging Face tokenizers' {@code AddedToken}.
 *
 * @param content the literal text
 * @param id its id (the vocabulary's id when the content is also a vocabulary entry)
 * @param special whether it is a special token (bos, eos, unk, pad or an additional special)
 * @param normalized match it in the normalized (NFC, whitespace-collapsed, lower-cased) text
 *     instead of the raw text
 * @param lstrip a match also swallows the whitespace to its left
 * @param rstrip a match also swallows the whitespace to its right
 * @param singleWord match only where it is not inside a word
 */
record AddedToken(
        String content,
        int id,
        boolean special,
        boolean normalized,
        boolean lstrip,
        boolean rstrip,
        boolean singleWord) {

    AddedToken {
        if (content == null || content.isEmpty()) {
            throw new IllegalArgumentException("added token content is empty (id " + id + ")");
        }
    }

    AddedToken withId(int newId) {
        return new AddedToken(content, newId, special, normalized, lstrip, rstrip, singleWord);
    }
}
