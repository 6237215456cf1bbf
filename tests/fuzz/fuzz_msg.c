/*
 * fuzz_msg: the header reader (msg_read) with -t recipient extraction,
 * fix-up and masquerading, and the RFC 5322 address-list parser. The
 * first input byte picks the options; the rest is the message.
 */
#define _GNU_SOURCE	/* memfd_create */
#include <sys/mman.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int	in_fd = -1, out_fd = -1;

/* One memory file for the input and /dev/null for the output. */
static void
fds_open(void)
{
	if (in_fd == -1 && (in_fd = memfd_create("fuzz_msg", 0)) == -1)
		abort();
	if (out_fd == -1 && (out_fd = open("/dev/null", O_WRONLY)) == -1)
		abort();
}

static void
read_message(const uint8_t *data, size_t size, unsigned flags)
{
	static const char *const local[] = { "localhost", "myhost.example" };
	struct msg_opts	o;
	struct msg_info	info;
	struct ferr	e;
	size_t		i;

	fds_open();
	if (ftruncate(in_fd, 0) == -1 ||
	    pwrite(in_fd, data, size, 0) != (ssize_t)size ||
	    lseek(in_fd, 0, SEEK_SET) == -1)
		abort();
	memset(&o, 0, sizeof(o));
	o.dot_ends = flags & 1;
	o.extract = flags & 2;
	o.fixup = flags & 4;
	o.force_from = flags & 8;
	o.from_addr = "user@myhost.example";
	o.full_name = flags & 16 ? "J\xc3\xb6rg \"Q\" User" : NULL;
	o.masquerade = flags & 32 ? "example.org" : NULL;
	o.local = local;
	o.nlocal = 2;
	o.warning = flags & 64 ? "myhost: user set sender" : NULL;
	o.host = "myhost.example";
	o.now = 1700000000;
	msg_addrs_init(&info.rcpts);
	ferr_clear(&e);
	if (msg_read(in_fd, out_fd, &o, &info, &e) == 0)
		for (i = 0; i < info.rcpts.n; i++)
			if (info.rcpts.v[i][0] == '\0')
				abort();	/* -t never yields "" */
	msg_addrs_free(&info.rcpts);
}

static void
parse_addrs(const uint8_t *data, size_t size)
{
	struct msg_addrs	a;
	struct ferr		e;
	char			*s;

	msg_addrs_init(&a);
	msg_parse_addrs((const char *)data, size, &a, &e);
	msg_addrs_free(&a);
	/* the command-line check takes a C string */
	if ((s = strndup((const char *)data, size)) == NULL)
		abort();
	msg_addr_check(s, &e);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	read_message(data + 1, size - 1, data[0]);
	parse_addrs(data + 1, size - 1);
	return 0;
}
