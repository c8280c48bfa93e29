# OpenAI GPT: the numpy release (a folder of params_0..9.npy with
# params_shapes.json and parameters_names.json). It has no config file: the
# sizes come from the tensors, the rest from OpenAIGPTConfig's defaults (the
# released model's), unless CONFIG= gives an HF-style config.json.
gpt_RULES := tensors.rules
gpt_CONFIG := config.json
gpt_CONFIG_OPTIONAL := yes
gpt_VOCAB := encoder_bpe_40000.json=vocab.json vocab_40000.bpe=merges.txt
$(eval $(call ckptconv-model,gpt))
