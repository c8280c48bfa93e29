# Originals that once did not convert (issue 17), made the way the original
# training code names and shapes them (values from mkckpt), converted through
# mk/convert.mk and loaded with transformers: T5 v1.1's operative_config.gin
# (LayerStack.norm_epsilon = None, the sublayer_rms_norm form), XLNet and
# Transformer-XL with untie_r=false (one shared bias; n_head == n_layer, where
# a per-layer split would be silently wrong), Transformer-XL div_val=1
# (enwik8/text8) and proj_same_dim=false, and a fine-tuned XLNet body with no
# LM head (XLNetModel). Each loads with no missing or unexpected keys and
# gives the logits of the same weights loaded by hand (tests/py/stack_originals.py);
# a config that contradicts the tensors is an error naming both.
. "$(dirname "$0")/lib.sh"
CHK=$CK_ROOT/tests/py/stack_originals.py
HF5=$CK_STACK_HF5
HF4=$CK_STACK_TF # transformers 4.57.6: the last with Transformer-XL

# mk NAME — $T/NAME/model.ckpt from $T/NAME.spec, the stream it must give in $T/NAME.st
mk() { mkdir -p "$T/$1" && "$TB/mkckpt" --expect "$T/$1.st" "$T/$1.spec" "$T/$1/model.ckpt"; }

# ---- T5 v1.1 (Mesh TF names: the sublayer form's norms are "rms_norm") -----
t5_spec() {
	local s b l q
	echo "shared/embedding F32 40,16"
	echo "shared/embedding_slot_vr F32 40"
	echo "shared/embedding_slot_vc F32 16"
	echo "global_step I64 -"
	for s in encoder decoder; do
		for b in 000 001; do
			l=$s/block_$b/layer_000
			for q in q k v o; do echo "$l/SelfAttention/$q F32 16,16"; done
			[ $b = 000 ] && echo "$l/SelfAttention/relative_attention_bias F32 2,32"
			echo "$l/rms_norm/scale F32 16"
			if [ $s = decoder ]; then
				for q in q k v o; do echo "$s/block_$b/layer_001/EncDecAttention/$q F32 16,16"; done
				echo "$s/block_$b/layer_001/rms_norm/scale F32 16"
				l=$s/block_$b/layer_002
			else
				l=$s/block_$b/layer_001
			fi
			echo "$l/DenseReluDense/wi_0/kernel F32 16,24"
			echo "$l/DenseReluDense/wi_1/kernel F32 16,24"
			echo "$l/DenseReluDense/wo/kernel F32 24,16"
			echo "$l/rms_norm/scale F32 16"
		done
		echo "$s/rms_norm/scale F32 16"
	done
	echo "decoder/logits/kernel F32 16,40"
}
t5_spec >"$T/t5.spec" && mk t5
# the form of T5.1.1's operative_config.gin
cat >"$T/t5/operative_config.gin" <<'GIN'
import mesh_tensorflow.transformer.transformer_layers
# Macros:
# ==============================================================================
d_ff = 24
d_kv = 8
d_model = 16
dropout_rate = 0.0
num_heads = 2
num_layers = 2

# Parameters for decoder/DenseReluDense:
decoder/DenseReluDense.activation = ['gelu', 'linear']
decoder/DenseReluDense.dropout_rate = %dropout_rate
decoder/DenseReluDense.hidden_size = %d_ff
# Parameters for encoder/DenseReluDense:
encoder/DenseReluDense.activation = ['gelu', 'linear']
encoder/DenseReluDense.hidden_size = %d_ff
# Parameters for decoder/LayerStack:
decoder/LayerStack.dropout_rate = None
decoder/LayerStack.norm_epsilon = None
decoder/LayerStack.sublayers_final = \
    [@transformer.sublayer_rms_norm, @transformer.sublayer_dropout]
decoder/LayerStack.sublayers_per_layer = \
    [@transformer.sublayer_rms_norm,
     @transformer.sublayer_call_layer,
     @transformer.sublayer_dropout,
     @transformer.sublayer_residual]
# Parameters for encoder/LayerStack:
encoder/LayerStack.dropout_rate = None
encoder/LayerStack.norm_epsilon = None
encoder/LayerStack.sublayers_final = \
    [@transformer.sublayer_rms_norm, @transformer.sublayer_dropout]
# Parameters for encoder/SelfAttention:
encoder/SelfAttention.key_value_size = %d_kv
encoder/SelfAttention.num_heads = %num_heads
encoder/SelfAttention.relative_attention_num_buckets = 32
# Parameters for sublayer_rms_norm:
sublayer_rms_norm.epsilon = 1e-06
sublayer_rms_norm.name = 'rms_norm'
# Parameters for decoder/Unitransformer:
decoder/Unitransformer.shared_embedding_and_softmax_weights = False
encoder/make_layer_stack.num_layers = %num_layers
decoder/make_layer_stack.num_layers = %num_layers
GIN
sed 's/^sublayer_rms_norm.epsilon = 1e-06/sublayer_rms_norm.epsilon = 1e-05/' "$T/t5/operative_config.gin" >"$T/eps5.gin"
grep -v '^sublayer_rms_norm.epsilon' "$T/t5/operative_config.gin" >"$T/noeps.gin"
eps() { "$B/cfg-translate" t5 "$1" --set vocab_size=40 -v 2>&1 >/dev/null | grep '^layer_norm_epsilon' | tr -s ' '; }
check_eq "t5 gin: norm_epsilon = None falls through to sublayer_rms_norm.epsilon" \
	"layer_norm_epsilon = 1e-05 ($T/eps5.gin: sublayer_rms_norm.epsilon)" "$(eps "$T/eps5.gin")"
check_eq "t5 gin: None and no sublayer epsilon: the default" "layer_norm_epsilon = 1e-06 (default)" \
	"$(eps "$T/noeps.gin" | sed 's/ (.*default.*)/ (default)/')"

# ---- XLNet (modeling.py: untie_r=false makes r_*_bias [n_head, d_head]) --------
# xlnet_spec UNTIE HEAD — n_layer = n_head = 2, d_head 8, d_model 16
xlnet_spec() {
	local b i p bias=2,8
	[ "$1" = true ] && bias=2,2,8
	echo "model/transformer/word_embedding/lookup_table F32 40,16"
	[ "$2" = lm ] && echo "model/transformer/mask_emb/mask_emb F32 1,1,16"
	for b in r_w_bias r_r_bias r_s_bias; do echo "model/transformer/$b F32 $bias"; done
	echo "model/transformer/seg_embed F32 2,2,2,8"
	for i in 0 1; do
		for p in q k v o r; do echo "model/transformer/layer_$i/rel_attn/$p/kernel F32 16,2,8"; done
		for p in rel_attn ff; do
			echo "model/transformer/layer_$i/$p/LayerNorm/gamma F32 16"
			echo "model/transformer/layer_$i/$p/LayerNorm/beta F32 16"
		done
		echo "model/transformer/layer_$i/ff/layer_1/kernel F32 16,24"
		echo "model/transformer/layer_$i/ff/layer_1/bias F32 24"
		echo "model/transformer/layer_$i/ff/layer_2/kernel F32 24,16"
		echo "model/transformer/layer_$i/ff/layer_2/bias F32 16"
		echo "model/transformer/layer_$i/ff/layer_1/kernel/adam_m F32 16,24"
	done
	[ "$2" = lm ] && echo "model/lm_loss/bias F32 40"
	echo "global_step I64 -"
}
xlnet_config() { # UNTIE
	printf '{"d_head": 8, "d_inner": 24, "d_model": 16, "ff_activation": "gelu", "n_head": 2, "n_layer": 2, "n_token": 40, "untie_r": %s}\n' "$1"
}
xlnet_spec false lm >"$T/xl_tied.spec" && mk xl_tied && xlnet_config false >"$T/xl_tied/xlnet_config.json"
xlnet_spec true body >"$T/xl_body.spec" && mk xl_body && xlnet_config true >"$T/xl_body/xlnet_config.json"

# ---- Transformer-XL (tf/model.py) ------------------------------------------
# txl_spec DIV_VAL D_EMBED UNTIE PROJ_SAME_DIM — d_model 16, n_head = n_layer = 2
txl_spec() {
	local i bias=2,8 T=transformer
	[ "$3" = true ] && bias=2,2,8
	if [ "$1" = 1 ]; then # one table, no cutoffs (enwik8, text8)
		echo "$T/adaptive_embed/lookup_table F32 40,$2"
		[ "$2" != 16 ] && echo "$T/adaptive_embed/proj_W F32 $2,16"
		echo "$T/adaptive_softmax/bias F32 40"
		echo "$T/adaptive_softmax/bias/Adam F32 40"
	else # cutoffs [10, 20], div_val 2: cluster dims 16, 8, 4
		echo "$T/adaptive_embed/cutoff_0/lookup_table F32 10,16"
		[ "$4" = true ] && echo "$T/adaptive_embed/cutoff_0/proj_W F32 16,16"
		echo "$T/adaptive_embed/cutoff_1/lookup_table F32 10,8"
		echo "$T/adaptive_embed/cutoff_1/proj_W F32 8,16"
		echo "$T/adaptive_embed/cutoff_2/lookup_table F32 20,4"
		echo "$T/adaptive_embed/cutoff_2/proj_W F32 4,16"
		echo "$T/adaptive_softmax/cutoff_0/cluster_W F32 2,16"
		echo "$T/adaptive_softmax/cutoff_0/cluster_b F32 2"
		[ "$4" = true ] && echo "$T/adaptive_softmax/cutoff_0/proj F32 16,16"
		echo "$T/adaptive_softmax/cutoff_0/b F32 10"
		echo "$T/adaptive_softmax/cutoff_1/b F32 10"
		echo "$T/adaptive_softmax/cutoff_2/b F32 20"
	fi
	echo "$T/r_w_bias F32 $bias"
	echo "$T/r_r_bias F32 $bias"
	for i in 0 1; do
		echo "$T/layer_$i/rel_attn/qkv/kernel F32 16,48"
		echo "$T/layer_$i/rel_attn/r/kernel F32 16,16"
		echo "$T/layer_$i/rel_attn/o/kernel F32 16,16"
		echo "$T/layer_$i/rel_attn/LayerNorm/gamma F32 16"
		echo "$T/layer_$i/rel_attn/LayerNorm/beta F32 16"
		echo "$T/layer_$i/ff/layer_1/kernel F32 16,24"
		echo "$T/layer_$i/ff/layer_1/bias F32 24"
		echo "$T/layer_$i/ff/layer_2/kernel F32 24,16"
		echo "$T/layer_$i/ff/layer_2/bias F32 16"
		echo "$T/layer_$i/ff/LayerNorm/gamma F32 16"
		echo "$T/layer_$i/ff/LayerNorm/beta F32 16"
		echo "$T/layer_$i/ff/layer_1/kernel/Adam_1 F32 16,24"
	done
	echo "beta1_power F32 -"
	echo "global_step I64 -"
}
# txl_flags DIV_VAL D_EMBED UNTIE PROJ_SAME_DIM — train_gpu.py's flags
txl_flags() {
	local cut='[10, 20]'
	[ "$1" = 1 ] && cut='[]'
	printf '{"n_token": 40, "cutoffs": %s, "div_val": %s, "d_embed": %s, "d_model": 16, "n_head": 2, "d_head": 8, "d_inner": 24, "n_layer": 2, "untie_r": %s, "proj_share_all_but_first": true, "proj_same_dim": %s, "mem_len": 8, "tgt_len": 8, "clamp_len": -1, "same_length": false}\n' \
		"$cut" "$1" "$2" "$3" "$4"
}
txl() { # NAME DIV_VAL D_EMBED UNTIE PROJ_SAME_DIM
	local n=$1; shift
	txl_spec "$@" >"$T/$n.spec" && mk "$n" && txl_flags "$@" >"$T/$n/config.json"
}
txl enwik8 1 16 true true      # untie_r=true, n_head == n_layer: split by layer
txl text8p 1 8 false true      # d_embed != d_model: proj_W; one shared bias
txl psd 2 16 false false       # proj_same_dim=false: no cutoff_0 projections

cat >"$T/Makefile" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,o_t5,t5,$T/t5/model.ckpt,FORMAT=safetensors))
\$(eval \$(call ckptconv,o_xl_tied,xlnet,$T/xl_tied/model.ckpt,FORMAT=safetensors))
\$(eval \$(call ckptconv,o_xl_body,xlnet,$T/xl_body/model.ckpt,FORMAT=safetensors))
\$(eval \$(call ckptconv,o_enwik8,transfo_xl,$T/enwik8/model.ckpt,FORMAT=safetensors))
\$(eval \$(call ckptconv,o_text8p,transfo_xl,$T/text8p/model.ckpt,FORMAT=safetensors))
\$(eval \$(call ckptconv,o_psd,transfo_xl,$T/psd/model.ckpt,FORMAT=safetensors))
all: \$(CKPTCONV_OUTPUTS)
MK
check "make -j2 converts every original" make -s -C "$T" -j2 all

# the three ways through the rules give the same bytes, copies and made tensors included
for c in xl_tied:xlnet psd:transfo_xl; do
	d=${c%%:*} m=${c#*:}
	"$B/ckpt-extract" "$T/$d/model.ckpt" | "$B/tensor-remap" "$CK_ROOT/models/$m/tensors.rules" >"$T/$d.piped.st"
	check "$d: ckpt-extract --remap, the bytes of | tensor-remap" sh -c \
		"'$B/ckpt-extract' '$T/$d/model.ckpt' --remap '$CK_ROOT/models/$m/tensors.rules' | cmp - '$T/$d.piped.st'"
	check "$d: the Make path (pt-pack --checkpoint), the bytes of the pipeline" sh -c \
		"'$B/pt-pack' '$T/$d.piped.st' -o - --format safetensors | cmp - '$T/o_$d/model.safetensors'"
done

cfg() { # cfg DIR EXPR — a Python expression over the config c
	$PY -c 'import json,sys; c=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T/$1/config.json" "$2"
}
check_eq "t5 v1.1: config from the gin file" "T5ForConditionalGeneration gated-gelu False 1e-06 40 2" \
	"$(cfg o_t5 '" ".join(map(str, [c["architectures"][0], c["feed_forward_proj"], c["tie_word_embeddings"], c["layer_norm_epsilon"], c["vocab_size"], c["num_heads"]]))')"
check_eq "xlnet untie_r=false: untie_r from the checkpoint, the LM head" "XLNetLMHeadModel False" \
	"$(cfg o_xl_tied '" ".join(map(str, [c["architectures"][0], c["untie_r"]]))')"
check_eq "xlnet body: no LM head, the bare XLNetModel" "XLNetModel True" \
	"$(cfg o_xl_body '" ".join(map(str, [c["architectures"][0], c["untie_r"]]))')"
"$B/cfg-translate" xlnet "$T/xl_body/xlnet_config.json" --tensors "$T/o_xl_body/.ckptconv/tensors.list" -o "$T/body.json" 2>"$T/body.err"
check_eq "xlnet body: says what the checkpoint is, in one line" \
	"$T/o_xl_body/.ckptconv/tensors.list: XLNetModel: no LM head (model/lm_loss/bias): not a pretraining checkpoint; converted as the bare XLNetModel (TASK=<its task> converts a fine-tuned head)" \
	"$(cat "$T/body.err")"
check_eq "xlnet body: a zero mask_emb" "transformer.mask_emb F32 1,1,16 0.0" \
	"$($HF5 -c 'import sys; from safetensors.numpy import load_file; t=load_file(sys.argv[1])["transformer.mask_emb"]; print("transformer.mask_emb", "F32", ",".join(map(str, t.shape)), abs(t).max())' "$T/o_xl_body/model.safetensors")"
for c in enwik8:True:1:'[False]' text8p:False:1:'[False]' psd:False:2:'[False, True, True]'; do
	IFS=: read -r d u v p <<<"$c"
	check_eq "transfo_xl $d: untie_r, div_val and tie_projs" "$u $v $p" \
		"$(cfg o_$d '" ".join(map(str, [c["untie_r"], c["div_val"], c["tie_projs"]]))')"
done
check_eq "transfo_xl psd: cluster 0's projections are made (identity), the others tied" \
	"crit.out_projs.0 F32 16,16 transformer.word_emb.emb_projs.0 F32 16,16 transformer.word_emb.emb_projs.1 F32 16,8 transformer.word_emb.emb_projs.2 F32 16,4" \
	"$("$B/ckpt-ls" "$T/o_psd/model.safetensors" | grep 'projs' | sort | tr '\t\n' '  ' | sed 's/ $//')"

# ---- transformers: every key, bit for bit, the same logits -------------------
$HF5 "$CHK" t5 "$T/t5.st" "$T/o_t5" "t5 v1.1 (gin sublayer form)"
$HF5 "$CHK" xlnet "$T/xl_tied.st" "$T/o_xl_tied" "xlnet untie_r=false"
$HF5 "$CHK" xlnet "$T/xl_body.st" "$T/o_xl_body" "xlnet body (no LM head)"
$HF4 "$CHK" transfo_xl "$T/enwik8.st" "$T/o_enwik8" "transfo_xl div_val=1 untie_r=true"
$HF4 "$CHK" transfo_xl "$T/text8p.st" "$T/o_text8p" "transfo_xl div_val=1 proj_W untie_r=false"
$HF4 "$CHK" transfo_xl "$T/psd.st" "$T/o_psd" "transfo_xl proj_same_dim=false"

# ---- contradictions: errors naming both sides -------------------------------
xlnet_config true >"$T/untie_true.json"
"$B/ckpt-ls" "$T/xl_tied/model.ckpt" >"$T/xl_tied.list"
check_fails "xlnet: untie_r=true in the config, a shared [n_head, d_head] bias: names both" \
	'untie_true.json: untie_r = true, but .*xl_tied.list: tensor model/transformer/r_w_bias has 2 axes, via .*config.map: line [0-9]+: table r_bias_rank = false$' \
	"$B/cfg-translate" xlnet "$T/untie_true.json" --checkpoint-tensors "$T/xl_tied.list" -o "$T/no.json"
check "no config written after the error" test ! -e "$T/no.json"
txl_flags 1 16 false true >"$T/untie_false.json"
"$B/ckpt-ls" "$T/enwik8/model.ckpt" >"$T/enwik8.list"
check_fails "transfo_xl: untie_r=false in the flags, per-layer biases: names both" \
	'untie_false.json: untie_r = false, but .*enwik8.list: tensor transformer/r_w_bias has 3 axes, via .*table r_bias_rank = true$' \
	"$B/cfg-translate" transfo_xl "$T/untie_false.json" --checkpoint-tensors "$T/enwik8.list"
sed 's|^\(model/transformer/r_w_bias\t[^\t]*\t\).*|\14,4|' "$T/xl_tied.list" |
	"$B/tensor-remap" --list "$CK_ROOT/models/xlnet/tensors.rules" >"$T/bias44.rlist"
check_fails "xlnet: a shared bias whose shape contradicts n_head: names both" \
	'xl_tied/xlnet_config.json: n_head = 2, but .*bias44.rlist: tensor transformer.layer.0.rel_attn.r_w_bias dim 0 = 4$' \
	"$B/cfg-translate" xlnet "$T/xl_tied/xlnet_config.json" --tensors "$T/bias44.rlist"
sed 's|^\(model/transformer/r_w_bias\t[^\t]*\t\).*|\12,2,8,1|' "$T/xl_tied.list" >"$T/rank4.list"
check_fails "xlnet: a bias of another rank is refused, naming it and the rules" \
	'tensor model/transformer/r_w_bias: has 4 axes, which no rule for it takes \(.*tensors.rules:[0-9]+ takes 3\)' \
	"$B/tensor-remap" --list "$CK_ROOT/models/xlnet/tensors.rules" "$T/rank4.list"
# model.py leaves cluster 0 without a projection only when d_embed == d_model
"$B/ckpt-ls" "$T/psd/model.ckpt" | sed 's|^\(transformer/adaptive_embed/cutoff_0/lookup_table\t[^\t]*\t\).*|\110,8|' |
	"$B/tensor-remap" --list "$CK_ROOT/models/transfo_xl/tensors.rules" >"$T/psd8.rlist"
txl_flags 2 8 false false >"$T/psd8.json"
check_fails "transfo_xl proj_same_dim=false: an identity that cannot stand in (d_embed 8, d_model 16): names both" \
	'psd8.json: d_model = 16, but .*psd8.rlist: tensor transformer.word_emb.emb_projs.0 dim 0 = 8$' \
	"$B/cfg-translate" transfo_xl "$T/psd8.json" --tensors "$T/psd8.rlist"
{ printf '%s\tF32\t%s\n' transformer/adaptive_embed/lookup_table 40,16 transformer/adaptive_softmax/cutoff_0/b 10 \
	transformer/adaptive_softmax/cutoff_0/cluster_W 1,16 transformer/adaptive_softmax/cutoff_0/cluster_b 1 \
	transformer/adaptive_softmax/cutoff_1/b 30; grep -v adaptive "$T/enwik8.list"; } >"$T/dv1cut.list"
check_fails "transfo_xl div_val=1 with cutoffs: refused, saying why" \
	'div_val=1 with cutoffs .* is not supported: Hugging Face keeps one softmax bias' \
	"$B/tensor-remap" --list "$CK_ROOT/models/transfo_xl/tensors.rules" "$T/dv1cut.list"
cat >"$T/bad.mk" <<MK
CKPTCONV_BIN := $B
include $CK_ROOT/mk/convert.mk
\$(eval \$(call ckptconv,$T/bad,xlnet,$T/xl_tied/model.ckpt,CONFIG=$T/untie_true.json FORMAT=safetensors))
MK
check_exit "make: the contradiction fails the build" 2 make -s -C "$T" -f "$T/bad.mk" "$T/bad"
check "make: no config.json or manifest after it" test ! -e "$T/bad/config.json" -a ! -e "$T/bad/ckptconv-manifest.json"
check_eq "a second make does nothing" "" "$(make --no-print-directory -C "$T" all 2>&1 | grep -v 'Nothing to be done\|is up to date')"
