# Transformer-XL: kimiyoung/transformer-xl TensorFlow checkpoints. The release
# has no config file, only training flags: give them as JSON (n_token,
# cutoffs, div_val, d_model, ...) or an HF-style config.json with CONFIG=.
transfo_xl_RULES := tensors.rules
transfo_xl_CONFIG := config.json
$(eval $(call ckptconv-model,transfo_xl))
