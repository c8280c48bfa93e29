# cfg-translate --tensors: the class follows what the checkpoint holds, sizes are filled from
# and checked against the shapes, dtype is the tensors' own. The lists are written by hand
# from real checkpoints' variable names, as the tensor rules map them.
. "$(dirname "$0")/lib.sh"
R=$FIX/real
CHK="$PY $CK_ROOT/tests/py/cfgcheck.py"
ZH=$R/bert/google_chinese_L-12_H-768_A-12/bert_config.json

# bert_body FILE [VOCAB]: embeddings, 12 layers (BERT-Base) of the converted names.
bert_body() {
	local v=${2:-21128}
	{
		printf 'bert.embeddings.word_embeddings.weight\tF32\t%s,768\n' "$v"
		printf 'bert.embeddings.position_embeddings.weight\tF32\t512,768\n'
		printf 'bert.embeddings.token_type_embeddings.weight\tF32\t2,768\n'
		printf 'bert.embeddings.LayerNorm.weight\tF32\t768\nbert.embeddings.LayerNorm.bias\tF32\t768\n'
		for i in 0 1 2 3 4 5 6 7 8 9 10 11; do
			p=bert.encoder.layer.$i
			for w in query key value; do printf '%s.attention.self.%s.weight\tF32\t768,768\n' $p $w; done
			printf '%s.intermediate.dense.weight\tF32\t3072,768\n%s.output.dense.weight\tF32\t768,3072\n' $p $p
		done
	} >"$1"
}
pooler() { printf 'bert.pooler.dense.weight\tF32\t768,768\nbert.pooler.dense.bias\tF32\t768\n' >>"$1"; }
mlm() { printf 'cls.predictions.bias\tF32\t21128\ncls.predictions.transform.dense.weight\tF32\t768,768\n' >>"$1"; }
nsp() { printf 'cls.seq_relationship.weight\tF32\t2,768\ncls.seq_relationship.bias\tF32\t2\n' >>"$1"; }

# arch NAME MODEL ORIGINAL LIST CLASS [cfgcheck options]
arch() {
	local name=$1 model=$2 orig=$3 list=$4 class=$5; shift 5
	check "$name: translates" "$B/cfg-translate" "$model" "$orig" --tensors "$list" -o "$T/$name.json"
	check "$name: $class" $CHK "$T/$name.json" --want "architectures=[\"$class\"]" "$@"
}

bert_body "$T/pre.list"; pooler "$T/pre.list"; mlm "$T/pre.list"; nsp "$T/pre.list"
arch bert-pretraining bert "$ZH" "$T/pre.list" BertForPreTraining --want vocab_size=21128 --absent id2label
bert_body "$T/mlm.list"; mlm "$T/mlm.list"
arch bert-released-no-pooler bert "$ZH" "$T/mlm.list" BertForMaskedLM
bert_body "$T/mlmp.list"; pooler "$T/mlmp.list"; mlm "$T/mlmp.list"
arch bert-mlm-with-pooler bert "$ZH" "$T/mlmp.list" BertForMaskedLM
bert_body "$T/nsp.list"; pooler "$T/nsp.list"; nsp "$T/nsp.list"
arch bert-nsp-only bert "$ZH" "$T/nsp.list" BertForNextSentencePrediction
bert_body "$T/base.list"; pooler "$T/base.list"
arch bert-no-heads bert "$ZH" "$T/base.list" BertModel
# Google run_classifier: root output_weights [3,768] -> classifier.weight.
bert_body "$T/cls.list"; pooler "$T/cls.list"
printf 'classifier.weight\tF32\t3,768\nclassifier.bias\tF32\t3\n' >>"$T/cls.list"
arch bert-classifier bert "$ZH" "$T/cls.list" BertForSequenceClassification \
	--want 'id2label={"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}' --want 'label2id={"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}'
# run_squad: cls/squad/output_weights [2,768] -> qa_outputs.weight.
bert_body "$T/qa.list"; printf 'qa_outputs.weight\tF32\t2,768\nqa_outputs.bias\tF32\t2\n' >>"$T/qa.list"
arch bert-squad bert "$ZH" "$T/qa.list" BertForQuestionAnswering --absent id2label
# The cased run_classifier checkpoint (vocab 28996) with a config that lacks sizes: the shapes
# fill them in.
echo '{"hidden_act": "gelu"}' >"$T/partial.json"
bert_body "$T/cased.list" 28996; pooler "$T/cased.list"
printf 'classifier.weight\tF32\t2,768\nclassifier.bias\tF32\t2\n' >>"$T/cased.list"
arch bert-sizes-from-shapes bert "$T/partial.json" "$T/cased.list" BertForSequenceClassification \
	--want vocab_size=28996 --want hidden_size=768 --want intermediate_size=3072 --want num_hidden_layers=12 \
	--want max_position_embeddings=512 --want 'id2label={"0": "LABEL_0", "1": "LABEL_1"}'
check_fails "bert: config vocab disagrees with the checkpoint" \
	'bert_config.json: vocab_size = 21128, but .*cased.list: tensor bert.embeddings.word_embeddings.weight dim 0 = 28996' \
	"$B/cfg-translate" bert "$ZH" --tensors "$T/cased.list" -o "$T/none.json"
check "no output after a conflict" test ! -e "$T/none.json"
check_fails "bert: 11 layers listed, config says 12" 'num_hidden_layers = 12, but .* 11 tensors' \
	"$B/cfg-translate" bert "$ZH" --tensors <(grep -v 'layer\.11\.' "$T/pre.list")

# dtype is what the tensors are; --torch-dtype wins.
sed 's/\tF32\t/\tBF16\t/' "$T/pre.list" >"$T/bf16.list"
arch bert-bf16 bert "$ZH" "$T/bf16.list" BertForPreTraining --want dtype='"bfloat16"'
check "--torch-dtype overrides" "$B/cfg-translate" bert "$ZH" --tensors "$T/bf16.list" --torch-dtype float16 -o "$T/f16.json"
check "--torch-dtype float16 written" $CHK "$T/f16.json" --want dtype='"float16"'
check "--tensors - reads stdin" sh -c "'$B/cfg-translate' bert '$ZH' --tensors - <'$T/mlm.list' | grep -q BertForMaskedLM"

# ALBERT base (Google layout: one shared layer group, cls/predictions + cls/seq_relationship).
AB=$R/albert/google_albert_base_en/albert_config.json
cat >"$T/albert.list" <<'L'
albert.embeddings.word_embeddings.weight	F32	30000,128
albert.embeddings.position_embeddings.weight	F32	512,128
albert.embeddings.token_type_embeddings.weight	F32	2,128
albert.encoder.embedding_hidden_mapping_in.weight	F32	768,128
albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight	F32	768,768
albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight	F32	3072,768
albert.pooler.weight	F32	768,768
predictions.bias	F32	30000
predictions.dense.weight	F32	128,768
sop_classifier.classifier.weight	F32	2,768
L
arch albert-base albert "$AB" "$T/albert.list" AlbertForPreTraining --want num_hidden_groups=1 --want embedding_size=128
grep -v -e sop_ -e pooler "$T/albert.list" >"$T/albert-mlm.list"
arch albert-mlm albert "$AB" "$T/albert-mlm.list" AlbertForMaskedLM
grep -v -e sop_ -e predictions "$T/albert.list" >"$T/albert-cls.list"
printf 'classifier.weight\tF32\t5,768\n' >>"$T/albert-cls.list"
arch albert-classifier albert "$AB" "$T/albert-cls.list" AlbertForSequenceClassification \
	--want 'label2id={"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2, "LABEL_3": 3, "LABEL_4": 4}'

# GPT-2 117M: 12 blocks; the hparams agree with the shapes.
{ printf 'wte.weight\tF32\t50257,768\nwpe.weight\tF32\t1024,768\n'
  for i in 0 1 2 3 4 5 6 7 8 9 10 11; do printf 'h.%d.attn.c_attn.weight\tF32\t768,2304\n' $i; done; } >"$T/gpt2.list"
arch gpt2-117M gpt2 "$R/gpt2/117M/hparams.json" "$T/gpt2.list" GPT2LMHeadModel --want n_layer=12
check_fails "gpt2: hparams n_ctx disagrees with wpe" 'hparams.json: n_ctx = 1024, but .*wpe.weight dim 0 = 2048' \
	"$B/cfg-translate" gpt2 "$R/gpt2/117M/hparams.json" --tensors <(sed 's/^wpe.weight\tF32\t1024/wpe.weight\tF32\t2048/' "$T/gpt2.list")

# T5 without a decoder is an encoder; a gated checkpoint (wi_0) sizes d_ff from wi_0.
cat >"$T/t5enc.list" <<'L'
shared.weight	F32	32128,512
encoder.block.0.layer.0.SelfAttention.q.weight	F32	512,512
encoder.block.0.layer.1.DenseReluDense.wi_0.weight	F32	1024,512
L
check "t5 encoder-only: translates" "$B/cfg-translate" t5 "$R/t5/small/operative_config.gin" --tensors "$T/t5enc.list" \
	--set num_layers=1 --set d_ff=1024 -o "$T/t5enc.json"
check "t5 encoder-only: T5EncoderModel" $CHK "$T/t5enc.json" --want 'architectures=["T5EncoderModel"]' --want vocab_size=32128

# XLNet: a task must agree with the head the checkpoint has.
XC=$R/xlnet/xlnet_cased_L-12_H-768_A-12/xlnet_config.json
{ printf 'transformer.word_embedding.weight\tF32\t32000,768\ntransformer.mask_emb\tF32\t1,1,768\n'
  for i in 0 1 2 3 4 5 6 7 8 9 10 11; do printf 'transformer.layer.%d.rel_attn.q\tF32\t768,12,64\n' $i; done; } >"$T/xlnet.list"
cp "$T/xlnet.list" "$T/xlnet-lm.list"; printf 'lm_loss.bias\tF32\t32000\n' >>"$T/xlnet-lm.list"
arch xlnet-lm xlnet "$XC" "$T/xlnet-lm.list" XLNetLMHeadModel
cp "$T/xlnet.list" "$T/xlnet-cls.list"
printf 'sequence_summary.summary.weight\tF32\t768,768\nlogits_proj.weight\tF32\t3,768\n' >>"$T/xlnet-cls.list"
check "xlnet mnli head + --task mnli" "$B/cfg-translate" xlnet "$XC" --task mnli --tensors "$T/xlnet-cls.list" -o "$T/xmnli.json"
check "xlnet mnli: 3 labels, sequence classification" $CHK "$T/xmnli.json" --want finetuning_task='"mnli"' \
	--want 'architectures=["XLNetForSequenceClassification"]' --want 'label2id={"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}'
check_fails "xlnet: --task sts-b on a 3-label head" '--task sts-b: num_labels = 1, but .*logits_proj.weight dim 0 = 3' \
	"$B/cfg-translate" xlnet "$XC" --task sts-b --tensors "$T/xlnet-cls.list"
check_fails "xlnet: --task sst-2 on an LM checkpoint" '--task sst-2 wants XLNetForSequenceClassification, but the tensors in .* make a XLNetLMHeadModel' \
	"$B/cfg-translate" xlnet "$XC" --task sst-2 --tensors "$T/xlnet-lm.list"
