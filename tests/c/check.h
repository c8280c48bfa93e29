/* check.h — the test programs' one assertion: CHECK(name, cond) prints
 * "ok - name" or "FAIL - name (last library error)", which tests/run.sh
 * counts; main returns failures != 0. */
#ifndef CK_TEST_CHECK_H
#define CK_TEST_CHECK_H

#include <stdio.h>

#include "util.h"

static int failures;
#define CHECK(name, cond)                                               \
	do {                                                            \
		if (cond)                                               \
			printf("ok - %s\n", name);                      \
		else {                                                  \
			printf("FAIL - %s (%s)\n", name, ck_errmsg());  \
			failures++;                                     \
		}                                                       \
	} while (0)

#endif
