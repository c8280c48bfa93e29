# GPT-2: OpenAI's TensorFlow release (models/117M …).
gpt2_RULES := tensors.rules
gpt2_CONFIG := hparams.json config.json
gpt2_CONFIG_OPTIONAL := yes
gpt2_VOCAB := encoder.json=vocab.json vocab.bpe=merges.txt
$(eval $(call ckptconv-model,gpt2))
