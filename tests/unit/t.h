/*
 * t.h: the unit test harness. Each tests/unit/<mod>_test.c defines
 * `void <mod>_test(struct t *t)`, listed in tests/unit/main.c, and
 * counts one check per T_OK/T_EQ. main prints "N passed, N failed".
 */
#ifndef FERRY_T_H
#define FERRY_T_H
#include <stdio.h>
#include <string.h>

struct t {
	int	passed;
	int	failed;
	const char *suite;
};

void	t_check(struct t *t, int ok, const char *file, int line,
	    const char *what);

/* The suites, one per tests/unit/<mod>_test.c. */
void	alias_test(struct t *);
void	auth_test(struct t *);
void	conf_test(struct t *);
void	confine_test(struct t *);
void	dsn_test(struct t *);
void	limit_test(struct t *);
void	msg_test(struct t *);
void	relay_test(struct t *);
void	report_test(struct t *);
void	serve_test(struct t *);
void	smtp_test(struct t *);
void	secret_test(struct t *);
void	spool_test(struct t *);
void	ta_test(struct t *);
void	tls_test(struct t *);
void	x509_test(struct t *);

/* One check; `what` names the case in the failure line. */
#define T_OK(t, cond, what) \
	t_check((t), (cond) != 0, __FILE__, __LINE__, (what))
#define T_STREQ(t, a, b, what) \
	t_check((t), strcmp((a), (b)) == 0, __FILE__, __LINE__, (what))
#define T_MEMEQ(t, a, alen, b, blen, what) \
	t_check((t), (alen) == (blen) && memcmp((a), (b), (alen)) == 0, \
	    __FILE__, __LINE__, (what))
#endif
