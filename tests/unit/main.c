#include <stdio.h>

#include "t.h"

void
t_check(struct t *t, int ok, const char *file, int line, const char *what)
{
	if (ok) {
		t->passed++;
		return;
	}
	t->failed++;
	fprintf(stderr, "FAIL %s:%d: %s: %s\n", file, line, t->suite, what);
}

int
main(void)
{
	static const struct {
		const char *name;
		void (*fn)(struct t *);
	} suites[] = {
		{ "alias", alias_test },
		{ "auth", auth_test },
		{ "conf", conf_test },
		{ "confine", confine_test },
		{ "dsn", dsn_test },
		{ "limit", limit_test },
		{ "msg", msg_test },
		{ "relay", relay_test },
		{ "report", report_test },
		{ "serve", serve_test },
		{ "smtp", smtp_test },
		{ "secret", secret_test },
		{ "spool", spool_test },
		{ "ta", ta_test },
		{ "tls", tls_test },
		{ "x509", x509_test },
	};
	struct t t = { 0, 0, "" };
	size_t	i;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		t.suite = suites[i].name;
		suites[i].fn(&t);
	}
	printf("%d passed, %d failed\n", t.passed, t.failed);
	return t.failed == 0 ? 0 : 1;
}
