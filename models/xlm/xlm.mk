# XLM: facebookresearch/XLM checkpoints (.pth, zip or legacy torch.save).
# The config and the vocabulary are inside the checkpoint: `params` and
# `dico_word2id` of its values (ckpt-ls --values). BPE codes, when given
# next to it (or in VOCAB=DIR) as `codes`, become merges.txt.
xlm_RULES := tensors.rules
xlm_CONFIG :=
xlm_CONFIG_IN_CKPT := params
xlm_VOCAB := codes=merges.txt
xlm_VOCAB_MAPS := vocab.map=vocab.json
$(eval $(call ckptconv-model,xlm))
