/*
 * conf.h: ferry.conf, the one configuration file. Lines of `key value`,
 * `#` starts a comment line; see ferry.conf(5) / README for each key.
 */
#ifndef FERRY_CONF_H
#define FERRY_CONF_H
#include <stddef.h>
#include "ferr.h"

#define CONF_HOST_SIZE	256	/* RFC 1035 2.3.4: 255 octets + NUL */
#define CONF_PATH_SIZE	1024
#define CONF_USER_SIZE	256
#define CONF_PASS_SIZE	512
#define CONF_PINS_MAX	8
#define CONF_PIN_SIZE	32	/* SHA-256 of a SubjectPublicKeyInfo */
#define CONF_LINE_SIZE	2048	/* longest config or authinfo line */
#define CONF_FILE_SIZE	65536	/* largest config, password or authinfo file */
#define CONF_RETRY_MAX	16	/* steps in a retry schedule */
#define CONF_HOSTS_MAX	4	/* smart hosts, tried in order */

#ifndef SPOOLDIR
#define SPOOLDIR	"/var/spool/ferry"
#endif

enum conf_tls {
	CONF_TLS_IMPLICIT,	/* TLS from the first byte (port 465) */
	CONF_TLS_STARTTLS,	/* plaintext, then STARTTLS (port 587) */
	CONF_TLS_NONE		/* loopback only: stunnel-style setups */
};

/* AUTH mechanisms, as a bit set. */
#define CONF_AUTH_PLAIN		0x01u
#define CONF_AUTH_LOGIN		0x02u
#define CONF_AUTH_CRAM_MD5	0x04u
#define CONF_AUTH_SCRAM_SHA256	0x08u	/* RFC 7677 */
#define CONF_AUTH_ALL		0x0fu	/* the password mechanisms */
/* OAuth: the "password" is a token, so only when `auth` names them. */
#define CONF_AUTH_XOAUTH2	0x10u
#define CONF_AUTH_OAUTHBEARER	0x20u	/* RFC 7628 */

/*
 * What each smart host has of its own: a `smarthost` line starts a
 * block of these keys (README "Failover").
 */
struct conf_host {
	char		smarthost[CONF_HOST_SIZE];
	unsigned	port;
	enum conf_tls	tls;
	unsigned char	pins[CONF_PINS_MAX][CONF_PIN_SIZE];
	size_t		npins;
	char		tls_server_name[CONF_HOST_SIZE];
	unsigned	auth;
	char		user[CONF_USER_SIZE];
	char		password[CONF_PASS_SIZE];
	int		has_password;
	char		password_file[CONF_PATH_SIZE];
	char		authinfo[CONF_PATH_SIZE];
	char		password_command[CONF_LINE_SIZE];
};

/*
 * The smart host fields (smarthost to password_command, as in struct
 * conf_host) describe one host, hosts[host]: the one a session uses
 * (conf_pick). The other modules see only those.
 */
struct conf {
	char		path[CONF_PATH_SIZE];	/* the file read, for messages */
	char		smarthost[CONF_HOST_SIZE];
	unsigned	port;		/* 0 until set; then 465/587 by tls */
	enum conf_tls	tls;		/* default CONF_TLS_IMPLICIT */
	char		tls_ca_file[CONF_PATH_SIZE];	/* "" = none */
	int		tls_builtin_ca;	/* default 1 */
	int		confine;	/* default 1: README "Confinement" */
	unsigned char	pins[CONF_PINS_MAX][CONF_PIN_SIZE];
	size_t		npins;
	char		tls_server_name[CONF_HOST_SIZE]; /* "" = smarthost */
	unsigned	auth;		/* CONF_AUTH_* allowed; default ALL */
	char		user[CONF_USER_SIZE];	/* "" = no AUTH */
	char		password[CONF_PASS_SIZE];
	int		has_password;
	char		password_file[CONF_PATH_SIZE];
	char		authinfo[CONF_PATH_SIZE];
	char		password_command[CONF_LINE_SIZE]; /* "" = none */
	char		helo[CONF_HOST_SIZE];	/* "" = the host's name */
	unsigned	timeout;	/* seconds per step; default 60 */
	char		spool[CONF_PATH_SIZE];	/* default SPOOLDIR */
	char		aliases[CONF_PATH_SIZE];	/* "" = none */
	char		masquerade[CONF_HOST_SIZE];	/* "" = none */
	char		from[CONF_USER_SIZE];	/* forced sender; "" = none */
	char		trusted_users[CONF_LINE_SIZE];	/* names, spaces */
	unsigned	max_queue_age;	/* seconds; default 5 days */
	unsigned	retry[CONF_RETRY_MAX];	/* seconds after try n */
	size_t		nretry;		/* the last step repeats */
	unsigned	bounce_window;	/* seconds; default 10m; 0 = off */
	unsigned	failed_max_age;	/* seconds; default 30 days */
	unsigned	failed_max_count;	/* default 1000 */
	char		metrics_file[CONF_PATH_SIZE];	/* "" = none */
	/* issue 22: the smart host's limits */
	unsigned	max_messages_per_session;	/* default 100; 0 = any */
	unsigned	send_rate;	/* messages a minute; 0 = unpaced */
	int		quota_defer;	/* quota_replies defer (1) | bounce */
	/* issue 26: failover */
	size_t		nhosts;		/* blocks closed so far, then all */
	size_t		host;		/* the one in the fields above */
	int		hosts_done;	/* conf_finish closed the last block */
	unsigned	failover_hold;	/* seconds; default 5m; 0 = none */
	/*
	 * Last, so that the entries past nhosts are never written: with
	 * one host the others' 17 KB are not even touched (peak RSS).
	 */
	struct conf_host hosts[CONF_HOSTS_MAX];	/* in order; after load */
};

/*
 * Defaults: implicit TLS, built-in anchors, any AUTH, timeout 60, spool
 * SPOOLDIR, max_queue_age 5d, retry 5m 10m 20m 40m 1h, bounce_window
 * 10m, failed_max_age 30d, failed_max_count 1000,
 * max_messages_per_session 100, send_rate 0, quota_replies defer.
 */
void	conf_init(struct conf *c);
/*
 * Parse config text (no I/O). `name` is used in messages:
 * "NAME:LINE: reason". Keys given later override earlier ones except
 * tls_pin, which adds, and smarthost: a further one starts the next
 * host's block (at most CONF_HOSTS_MAX), whose host keys start from
 * the defaults. Unknown keys and bad values are FE_CONFIG.
 * Does not apply defaults that depend on other keys: see conf_finish.
 */
int	conf_parse(struct conf *c, const char *text, size_t len,
	    const char *name, struct ferr *e);
/*
 * Parse sendmail AuthInfo text (no I/O) and take user, password and
 * mechanisms from the entry for c->smarthost (host compared without
 * case; "AuthInfo:" with no host is the fallback entry). Fields:
 * "U:user", "I:authid" (used when U is absent), "P:pass", "P=base64",
 * "M:MECH MECH", "R:realm" (ignored). A missing entry is not an error.
 */
int	conf_parse_authinfo(struct conf *c, const char *text, size_t len,
	    const char *name, struct ferr *e);
/*
 * Close the last host block, then check each host's cross-key rules
 * and leave hosts[0] in the host fields. Once only. The rules: a
 * smarthost is set;
 * port defaults to 465 (implicit) or 587 (starttls); `tls none` only
 * when smarthost is a loopback address or "localhost"; a user needs a
 * password or password_command; with tls_builtin_ca no and no pins, tls_ca_file is needed.
 */
int	conf_finish(struct conf *c, struct ferr *e);
/*
 * Read and parse the file at path, then authinfo when set (for its
 * user and mechanisms), then conf_finish. A file that holds a secret
 * (the config with a `password` key, authinfo) and is readable by
 * others (mode & 004) is refused, naming the file. Errors are
 * FE_CONFIG. No password stays in c: has_password says one is set (by
 * `password`, password_file or authinfo), conf_password reads it.
 */
int	conf_load(struct conf *c, const char *path, struct ferr *e);
/*
 * For a container with no config file: each key from the environment
 * variable FERRY_<KEY> in envp (FERRY_SMARTHOST, FERRY_PASSWORD_FILE,
 * ...; FERRY_TLS_PIN may hold several, space-separated), then the
 * checks conf_load makes. An empty or unknown FERRY_ variable is
 * ignored; FERRY_PASSWORD is refused (FE_CONFIG): a secret in the
 * environment reaches every child. The caller decides whether the
 * environment may be trusted: never in a set-ID process.
 */
int	conf_load_env(struct conf *c, char *const *envp, struct ferr *e);
/*
 * RFC 8314 3.3 and RFC 6409: port 465 speaks TLS at once and 587 says
 * STARTTLS. `tls starttls` or `none` with 465, or `implicit` with 587,
 * can only fail, after a whole timeout: FE_CONFIG naming the fix. Run
 * before connecting, not at load, so a message is still queued first.
 */
int	conf_tls_port(const struct conf *c, struct ferr *e);
/* Make hosts[i] (i < c->nhosts) the one in c's host fields. */
void	conf_pick(struct conf *c, size_t i);
/* *dst = *src, without the unused host entries. */
void	conf_copy(struct conf *dst, const struct conf *src);
/*
 * The password of a loaded config, read now from where it says (the
 * config's own `password` line, password_file or the authinfo entry)
 * into out (size bytes), for AUTH: so a run that does not authenticate
 * never reads it, and one that does holds it only until it wipes out.
 * password_file is checked here (readable by others, empty first
 * line); errors are FE_CONFIG, and out is wiped on failure.
 */
int	conf_password(const struct conf *c, char *out, size_t size,
	    struct ferr *e);
/*
 * The secret hosts[i] authenticates with: password_command's first
 * line (run now), else conf_password's. Errors as theirs.
 */
int	conf_secret(const struct conf *c, size_t i, char *out, size_t size,
	    struct ferr *e);
/*
 * The name this host goes by: helo, else the system's host name, else
 * "localhost". For EHLO, the default sender and Message-IDs.
 */
void	conf_host_name(const struct conf *c, char *out, size_t size);
/* Wipe the password from memory. */
void	conf_wipe(struct conf *c);
#endif
