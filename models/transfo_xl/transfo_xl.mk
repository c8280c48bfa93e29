# Transformer-XL: kimiyoung/transformer-xl TensorFlow checkpoints. The release
# has no config file, only training flags: give them as JSON (n_token,
# cutoffs, div_val, d_model, ...) or an HF-style config.json with CONFIG=.
transfo_xl_RULES := tensors.rules
transfo_xl_CONFIG := config.json
# transformers 4.36 deprecated the model and 5.0 deleted it (4.57.6 loads these folders).
transfo_xl_NOTE := Transformer-XL folders need transformers < 5 (5.0 removed TransfoXL; 4.57.6 loads them)
$(eval $(call ckptconv-model,transfo_xl))
