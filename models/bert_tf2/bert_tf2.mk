# BERT from TensorFlow 2 object-based checkpoints: bert-for-tf2 Keras models
# and TF Model Garden BertEncoderV2 (ROLE=classifier: bert-for-tf2's
# tutorial head as pooler + classifier).
bert_tf2_RULES := tensors.rules
bert_tf2_CONFIG := bert_config.json config.json
bert_tf2_VOCAB := vocab.txt=vocab.txt
bert_tf2_ROLES := classifier
$(eval $(call ckptconv-model,bert_tf2))
