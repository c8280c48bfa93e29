/* cli.h — the conventions every tool shares: --help/--version, messages on
 * stderr as "TOOL: FILE: what is wrong", exit 0 ok / 1 bad input / 2 usage. */
#ifndef CK_CLI_H
#define CK_CLI_H

enum { CLI_OK = 0, CLI_BAD_INPUT = 1, CLI_USAGE = 2 };

/* Remember the tool name (basename of argv[0]) for messages. */
void cli_init(const char *argv0);
const char *cli_name(void);
/* Handle --help / --version if argv[1] (or any argument before "--") is one
 * of them: prints usage (to stdout) or version and returns 1 (caller exits
 * 0); returns 0 otherwise. */
int cli_std_options(int argc, char **argv, const char *usage);
/* Print "TOOL: message" to stderr; returns CLI_BAD_INPUT. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "TOOL: <ck_errmsg()>"; returns CLI_BAD_INPUT. */
int cli_lib_error(void);
/* Print "TOOL: message" and a hint to --help; returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True when stderr is a terminal (progress displays are shown only then). */
int cli_stderr_is_tty(void);

#endif
