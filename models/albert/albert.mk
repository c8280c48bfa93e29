# ALBERT: Google's TensorFlow release (v1/v2, TF-Hub `module/` names too).
albert_RULES := tensors.rules
albert_CONFIG := albert_config.json config.json
albert_VOCAB := 30k-clean.model=spiece.model spiece.model=spiece.model
albert_DUMP_OUTPUT := file
$(eval $(call ckptconv-model,albert))
