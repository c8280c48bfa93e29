# T5: Mesh-TensorFlow checkpoints (v1.0 and v1.1), with Adafactor slots.
t5_RULES := tensors.rules
t5_CONFIG := config.json operative_config.gin
t5_VOCAB := sentencepiece.model=spiece.model spiece.model=spiece.model
t5_GENERATION_CONFIG := yes
$(eval $(call ckptconv-model,t5))
