# BERT: Google's TensorFlow release (pretraining, and fine-tuned classifier/SQuAD heads).
bert_RULES := tensors.rules
bert_CONFIG := bert_config.json config.json
bert_VOCAB := vocab.txt=vocab.txt
bert_DUMP_OUTPUT := file
$(eval $(call ckptconv-model,bert))
