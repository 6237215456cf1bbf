#include <stdlib.h>

#include "report.h"
#include "t.h"

struct out {
	char	buf[2048];
	size_t	len;
};

static void
put(void *arg, const char *s, size_t len)
{
	struct out *o = arg;

	if (len > sizeof(o->buf) - 1 - o->len)
		len = sizeof(o->buf) - 1 - o->len;
	memcpy(o->buf + o->len, s, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

/* Escaping: RFC 8259 7, and U+FFFD for what is not UTF-8. */
static void
json_cases(struct t *t)
{
	static const struct {
		const char *addr, *want, *why;
	} cases[] = {
		{ "a@b", "a@b", "plain" },
		{ "\"q\\uote\"@b", "\\\"q\\\\uote\\\"@b", "quote, backslash" },
		{ "a\x01\x1f\x7f@b", "a\\u0001\\u001f\\u007f@b", "controls" },
		{ "a\n\t@b", "a\\u000a\\u0009@b", "newline, tab" },
		{ "j\xc3\xb6rg@b", "j\xc3\xb6rg@b", "UTF-8 kept" },
		{ "\xf0\x9f\x93\xa7@b", "\xf0\x9f\x93\xa7@b", "4 bytes kept" },
		{ "x\xff@b", "x\\ufffd@b", "0xff" },
		{ "x\xc3@b", "x\\ufffd@b", "cut sequence" },
		{ "x\xc0\xaf@b", "x\\ufffd\\ufffd@b", "overlong" },
		{ "x\xed\xa0\x80@b", "x\\ufffd\\ufffd\\ufffd@b", "surrogate" },
		{ "x\xf4\x90\x80\x80@b", "x\\ufffd\\ufffd\\ufffd\\ufffd@b",
		    "past U+10FFFF" },
		{ "x\xe2\x82", "x\\ufffd\\ufffd", "cut at the end" },
		{ "a|b@c", "a|b@c", "pipe kept" },
	};
	struct spool_env env;
	struct ferr	 e;
	struct out	 o;
	char		 want[512];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spool_env_init(&env);
		snprintf(env.id, sizeof(env.id), "0123456789abcdef");
		env.arrival = 1700000000;
		env.size = 42;
		T_OK(t, spool_env_add(&env, cases[i].addr, SPOOL_PENDING,
		    &e) == 0, cases[i].why);
		o.len = 0;
		report_json_entry(put, &o, &env, 0);
		snprintf(want, sizeof(want), "{\"queue_name\": \"incoming\", "
		    "\"queue_id\": \"0123456789abcdef\", \"arrival_time\": "
		    "1700000000, \"message_size\": 42, \"forced_expire\": "
		    "false, \"sender\": \"\", \"recipients\": [{\"address\": "
		    "\"%s\"}]}\n", cases[i].want);
		T_STREQ(t, o.buf, want, cases[i].why);
		spool_env_free(&env);
	}
	/* the states: pending with the entry's error, refused with its own */
	spool_env_init(&env);
	snprintf(env.id, sizeof(env.id), "0123456789abcdef");
	snprintf(env.from, sizeof(env.from), "s@b");
	snprintf(env.error, sizeof(env.error), "421 busy");
	env.tries = 2;
	(void)spool_env_add(&env, "p@b", SPOOL_PENDING, &e);
	(void)spool_env_add(&env, "s@b", SPOOL_SENT, &e);
	(void)spool_env_add(&env, "r@b", SPOOL_REFUSED, &e);
	(void)spool_env_set_reply(&env, 2, "550 no", &e);
	o.len = 0;
	report_json_entry(put, &o, &env, 0);
	T_OK(t, strstr(o.buf, "\"queue_name\": \"deferred\"") != NULL,
	    "tried: deferred");
	T_OK(t, strstr(o.buf, "\"recipients\": [{\"address\": \"p@b\", "
	    "\"delay_reason\": \"421 busy\"}, {\"address\": \"r@b\", "
	    "\"delay_reason\": \"550 no\"}]") != NULL, "sent one left out");
	o.len = 0;
	report_json_entry(put, &o, &env, 1);
	T_OK(t, strstr(o.buf, "\"queue_name\": \"hold\"") != NULL,
	    "failed/: hold");
	spool_env_free(&env);
}

static void
state_cases(struct t *t)
{
	struct report_state st, back;
	char	buf[REPORT_STATE_SIZE];
	size_t	len;

	report_state_init(&st);
	report_state_note(&st, 100, 1, NULL);
	report_state_note(&st, 200, 0, "421 4.3.2 busy\r\nforged line");
	T_OK(t, st.changed && st.ok == 100 && st.err_time == 200,
	    "noted");
	T_STREQ(t, st.err, "421 4.3.2 busy", "error cut at CR");
	len = report_state_format(&st, buf, sizeof(buf));
	report_state_parse(&back, buf, len);
	T_OK(t, back.ok == 100 && back.err_time == 200 &&
	    strcmp(back.err, st.err) == 0, "round trip");
	report_state_note(&st, 50, 1, "older");
	T_OK(t, st.ok == 100 && strcmp(st.err, "older") != 0,
	    "an older note changes nothing");
	report_state_parse(&back, "ok -5\nerr_time 9x\nerr\nok 7", 26);
	T_OK(t, back.ok == 7 && back.err_time == 0, "bad lines skipped");
	report_state_parse(&back, "ok 1\0ok 2\n", 10);
	T_OK(t, back.ok == 0, "a NUL inside: skipped");
}

static void
check_cases(struct t *t)
{
	struct report_limits	l;
	struct report_queue	rq;
	struct ferr		e;
	char			line[1024];

	report_limits_init(&l);
	T_OK(t, report_limits_parse(&l, 0, "queued=10,age=1h", &e) == 0 &&
	    l.warn[REPORT_QUEUED] == 10 && l.warn[REPORT_AGE] == 3600,
	    "warn limits");
	T_OK(t, report_limits_parse(&l, 1, "age=2h,since=30m,failed=0",
	    &e) == 0 && l.crit[REPORT_AGE] == 7200 &&
	    l.crit[REPORT_SINCE] == 1800 && l.crit[REPORT_FAILED] == 0,
	    "crit limits");
	T_OK(t, report_limits_parse(&l, 0, "colour=1", &e) == -1 &&
	    e.kind == FE_USAGE, "unknown metric");
	T_OK(t, report_limits_parse(&l, 0, "queued=1h", &e) == -1,
	    "a count with a unit");
	T_OK(t, report_limits_parse(&l, 0, "age=", &e) == -1, "no value");
	T_OK(t, report_limits_parse(&l, 0, "age=9999999999", &e) == -1,
	    "too big");

	memset(&rq, 0, sizeof(rq));
	rq.now = 10000;
	T_OK(t, report_check(&rq, &l, line, sizeof(line)) == REPORT_OK,
	    "empty: OK");
	T_STREQ(t, line, "FERRY OK - 0 queued, oldest 0 s, 0 failed, no "
	    "delivery yet | queued=0;10;;0 oldest_age=0s;3600;7200;0 "
	    "failed=0;;0;0 since_success=U;;1800;0 since_error=U;;;0\n",
	    "empty: the line");
	rq.queued = 3;
	rq.oldest = 10000 - 4000;
	rq.st.ok = 10000 - 100;
	T_OK(t, report_check(&rq, &l, line, sizeof(line)) == REPORT_WARNING,
	    "oldest over warn: WARNING");
	rq.st.ok = 10000 - 2000;
	rq.st.err_time = 10000 - 10;
	snprintf(rq.st.err, sizeof(rq.st.err), "421 a|b\tc");
	T_OK(t, report_check(&rq, &l, line, sizeof(line)) == REPORT_CRITICAL,
	    "no success for 2000 s while queued: CRITICAL");
	T_OK(t, strstr(line, "last error 10 s ago: 421 a/b c |") != NULL,
	    "the error, no pipe, no tab");
	rq.failed = 1;
	T_OK(t, report_check(&rq, &l, line, 40) == REPORT_CRITICAL &&
	    strlen(line) == 39 && line[38] == '\n', "cut, still one line");
	report_unknown("spool /x: Permission denied", line, sizeof(line));
	T_STREQ(t, line, "FERRY UNKNOWN - spool /x: Permission denied\n",
	    "unknown");
}

static void
metrics_cases(struct t *t)
{
	struct report_queue	rq;
	struct out		o;

	memset(&rq, 0, sizeof(rq));
	rq.now = 1000;
	rq.queued = 2;
	rq.oldest = 900;
	snprintf(rq.st.err, sizeof(rq.st.err), "a\"b\\c\xff");
	o.len = 0;
	report_metrics(put, &o, &rq);
	T_OK(t, strstr(o.buf, "\nferry_queue_messages 2\n") != NULL,
	    "queued");
	T_OK(t, strstr(o.buf, "\nferry_queue_oldest_age_seconds 100\n") !=
	    NULL, "age");
	T_OK(t, strstr(o.buf, "ferry_last_error_info{reason=\"a\\\"b\\\\c"
	    "\xef\xbf\xbd\"} 1\n") != NULL, "label escaped");
}

/* Failover's holds (host-state), as the check and the metrics say them. */
static void
held_cases(struct t *t)
{
	static const char state[] = "a.example:465 3 1600\n"
	    "b.example:587 0 0\nbad\"name:1 1 9999\n";
	struct report_limits	l;
	struct report_queue	rq;
	struct ferr		e;
	struct out		o;
	char			line[1024];

	memset(&rq, 0, sizeof(rq));
	rq.now = 1000;
	relay_parse(&rq.hosts, state, sizeof(state) - 1);
	T_OK(t, rq.hosts.n == 2, "host-state: a name with a quote is dropped");
	report_limits_init(&l);
	T_OK(t, report_limits_parse(&l, 0, "held=0", &e) == 0 &&
	    l.warn[REPORT_HELD] == 0, "held=0");
	T_OK(t, report_check(&rq, &l, line, sizeof(line)) == REPORT_WARNING,
	    "a held host: WARNING with held=0");
	T_OK(t, strstr(line, ", held: a.example:465 (3 failures, 600 s more) "
	    "|") != NULL && strstr(line, " held_hosts=1;0;;0") != NULL,
	    "the check names the held host, its perfdata");
	o.len = 0;
	report_metrics(put, &o, &rq);
	T_OK(t, strstr(o.buf, "\nferry_smarthost_held{smarthost="
	    "\"a.example:465\"} 1\nferry_smarthost_held{smarthost="
	    "\"b.example:587\"} 0\n") != NULL, "metrics: held");
	T_OK(t, strstr(o.buf, "\nferry_smarthost_failures{smarthost="
	    "\"a.example:465\"} 3\n") != NULL, "metrics: failures");
	rq.now = 1600;
	T_OK(t, report_check(&rq, &l, line, sizeof(line)) == REPORT_OK &&
	    strstr(line, "held:") == NULL, "the hold over: OK");
}

void
report_test(struct t *t)
{
	json_cases(t);
	state_cases(t);
	check_cases(t);
	metrics_cases(t);
	held_cases(t);
}
