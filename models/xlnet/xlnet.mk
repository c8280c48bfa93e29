# XLNet: zihangdai/xlnet TensorFlow checkpoints (xlnet_config.json next to
# them). TASK= picks a fine-tuned head: a GLUE task (sequence classification,
# sts-b regression) or squad (question answering).
xlnet_RULES := tensors.rules
xlnet_CONFIG := xlnet_config.json config.json
xlnet_VOCAB := spiece.model=spiece.model
xlnet_TASKS := yes
$(eval $(call ckptconv-model,xlnet))
