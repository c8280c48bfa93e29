# ELECTRA: google-research/electra's TensorFlow pretraining checkpoints
# (discriminator and generator in one checkpoint: ROLE= chooses).
electra_RULES := tensors.rules
electra_CONFIG := config.json
electra_CONFIG_OPTIONAL := yes
electra_VOCAB := vocab.txt=vocab.txt
electra_ROLES := discriminator generator
$(eval $(call ckptconv-model,electra))
