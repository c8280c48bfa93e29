/* pyrepr — print pyjson_repr_double of each double given on stdin as 16 hex
 * digits of its IEEE-754 bits, one a line (tests compare with Python's repr). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pyjson.h"

int main(void)
{
	char line[64];
	while (fgets(line, sizeof line, stdin)) {
		uint64_t bits;
		if (sscanf(line, "%" SCNx64, &bits) != 1)
			return 2;
		double d;
		memcpy(&d, &bits, sizeof d);
		char buf[32];
		if (pyjson_repr_double(d, buf, sizeof buf) < 0)
			printf("(not finite)\n");
		else
			printf("%s\n", buf);
	}
	return 0;
}
