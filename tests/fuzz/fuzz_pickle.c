/* fuzz_pickle — the pickle stack machine (pickle.c) with PyTorch's
 * allow-list, as torchload.c runs it: every opcode, the memo, MARKs, the
 * global policy, truncation. The resulting tree (which may share nodes and
 * contain cycles) is then walked over its object table. */
#include "fuzz.h"
#include "pickle.h"

static const char *const allowed[] = {
	"torch._utils._rebuild_tensor_v2",
	"torch._utils._rebuild_tensor",
	"torch._utils._rebuild_parameter",
	"torch.Size",
	"numpy.core.multiarray._reconstruct",
	"numpy.dtype",
	NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pk_doc *d = NULL;
	size_t used = 0;
	int rc = pk_load(data, size, "p.pkl", allowed, &d, &used);
	if (rc != 0)
		return 0;
	if (used > size)
		abort();
	for (size_t i = 0; i < pk_object_count(d); i++) {
		pk_obj *o = pk_object(d, i);
		fuzz_sink += strlen(pk_kind_name(o->kind));
		switch (o->kind) {
		case PK_STR:
		case PK_BYTES:
		case PK_BIGINT:
			fuzz_sink += o->u.s.n ? (uint8_t)o->u.s.p[o->u.s.n - 1] : 0;
			break;
		case PK_LIST:
		case PK_TUPLE:
		case PK_SET:
		case PK_DICT:
			for (size_t k = 0; k < o->u.seq.n; k++)
				fuzz_sink += o->u.seq.v[k]->id;
			break;
		case PK_GLOBAL:
			fuzz_sink += strlen(o->u.g.qual);
			break;
		case PK_CALL:
			fuzz_sink += pk_is_call(o, "torch.Size") + o->u.call.fn->id + o->u.call.args->id;
			break;
		case PK_PERSID:
			fuzz_sink += o->u.pid->id;
			break;
		}
	}
	fuzz_sink += pk_root(d)->id;
	pk_free(d);
	return 0;
}
