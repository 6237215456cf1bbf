#!/usr/bin/python3
"""faultd.py: a scriptable SMTP smart host that misbehaves on command.

It plays the relay ferry talks to (TLS, AUTH PLAIN/LOGIN/CRAM-MD5,
PIPELINING) and, as a rules file says, fails at a chosen step: a reply
code, a dropped connection, a stall, a delay, raw bytes, or plaintext
injected after STARTTLS. The rules file is re-read for every new
connection, so a test changes behaviour between sessions by rewriting
it. See tests/fault/README.md for the command line and the rules.

Python 3 standard library only; loopback addresses only.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import os
import re
import select
import selectors
import signal
import socket
import ssl
import sys
import threading
import time
import traceback

HOSTNAME = "mail.ferry.test"
# --provider: the EHLO AUTH line each imitation offers.
PROVIDER_AUTH = {
	"gmail": "AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH",
	"microsoft": "AUTH LOGIN XOAUTH2",
	"oauthbearer": "AUTH OAUTHBEARER",
	"scram": "AUTH PLAIN SCRAM-SHA-256",
}
SIZE_LIMIT = 52428800
CMD_LINE_SIZE = 4096	# RFC 5321 4.5.3.1.4 says 512; be lenient, but bound
STEPS = ("greeting", "tls", "ehlo", "starttls", "auth", "mail", "rcpt",
    "data", "data-mid", "eod", "bdat", "rset", "noop", "quit")
# Replies that must be the last of a pipelined group (RFC 2920 3.1).
MUST_BE_LAST = ("EHLO", "HELO", "DATA", "QUIT", "NOOP")
# Actions that do the step and then misreply: see wire_action.
WIRE_ACTIONS = ("drop", "extra")


class RuleError(Exception):
	pass


class ClientGone(Exception):
	"""The client closed the connection, or a read timed out."""


class Hangup(Exception):
	"""We decided to end the connection."""


def unescape(s):
	"""Turn \\r \\n \\t \\\\ \\xHH in a rules-file string into bytes."""
	out = bytearray()
	i = 0
	b = s.encode("utf-8")
	while i < len(b):
		c = b[i:i + 1]
		if c != b"\\" or i + 1 == len(b):
			out += c
			i += 1
			continue
		e = b[i + 1:i + 2]
		if e in (b"r", b"n", b"t", b"\\"):
			out += {b"r": b"\r", b"n": b"\n", b"t": b"\t",
			    b"\\": b"\\"}[e]
			i += 2
		elif e == b"x" and re.match(rb"[0-9a-fA-F]{2}", b[i + 2:i + 4]):
			out.append(int(b[i + 2:i + 4], 16))
			i += 4
		else:
			out += c
			i += 1
	return bytes(out)


class Action:
	"""What a rule does at its step.

	kind: reply (data is one reply line), raw (data sent verbatim),
	close, stall, delay (secs, then data if any, else behave), drip
	(data sent one byte a second, then hang up), endless ("250-"
	lines without end, until the client goes).
	after: for data-mid, the number of DATA bytes to read first.
	"""

	def __init__(self, kind, data=None, secs=0.0, after=0, text=""):
		self.kind = kind
		self.data = data
		self.secs = secs
		self.after = after
		self.text = text

	def positive(self):
		"""A 2xx/3xx reply: the step's normal action still happens."""
		if self.kind in WIRE_ACTIONS:
			return True
		return self.data is not None and self.data[:1] in (b"2", b"3")

	def closing(self):
		return self.data is not None and self.data[:3] == b"421"


def parse_reply(words, lineno):
	"""CODE [text...] -> one CRLF-terminated reply line."""
	code = words[0]
	if not re.fullmatch(r"[2-5][0-9][0-9]", code):
		raise RuleError("line %d: expected a reply code, close, stall,"
		    " delay or raw, not %r" % (lineno, code))
	text = " ".join(words[1:]) or "fault injected"
	return (code + " " + text).encode("utf-8") + b"\r\n"


def parse_action(step, rest, lineno):
	words = rest.split()
	if not words:
		raise RuleError("line %d: %s: no action" % (lineno, step))
	verb = words[0]
	if step == "data-mid":
		if verb not in ("close", "stall") or len(words) != 2 or \
		    not words[1].isdigit():
			raise RuleError("line %d: data-mid wants close N or"
			    " stall N" % lineno)
		return Action(verb, after=int(words[1]), text=rest)
	if verb == "endless":
		if len(words) != 1:
			raise RuleError("line %d: endless takes no argument" %
			    lineno)
		return Action(verb, text=rest)
	if verb == "drip":
		if len(words) < 2:
			raise RuleError("line %d: drip wants a reply" % lineno)
		return Action(verb, data=parse_reply(words[1:], lineno),
		    text=rest)
	if verb in ("close", "stall"):
		if len(words) != 1:
			raise RuleError("line %d: %s takes no argument" %
			    (lineno, verb))
		return Action(verb, text=rest)
	if verb in WIRE_ACTIONS:
		return wire_action(step, verb, words, rest, lineno)
	if verb == "delay":
		try:
			secs = float(words[1])
		except (IndexError, ValueError):
			raise RuleError("line %d: delay wants seconds" % lineno)
		data = None
		if len(words) > 2:
			if step == "tls":
				raise RuleError("line %d: tls takes no reply" %
				    lineno)
			data = parse_reply(words[2:], lineno)
		return Action("delay", data=data, secs=secs, text=rest)
	if step == "tls" and verb != "raw":
		raise RuleError("line %d: tls takes close, stall, delay or "
		    "raw" % lineno)
	if verb == "raw":
		raw = rest.split(None, 1)
		if len(raw) != 2:
			raise RuleError("line %d: raw wants bytes" % lineno)
		return Action("raw", data=unescape(raw[1]), text=rest)
	return Action("reply", data=parse_reply(words, lineno), text=rest)


def wire_action(step, verb, words, rest, lineno):
	"""drop: do the step, send no reply (a lost reply). extra CODE
	[TEXT]: do the step, send its reply, then that one too (a reply
	too many). Only at steps whose success reply goes through ok()."""
	if step in ("greeting", "tls", "starttls", "data-mid"):
		raise RuleError("line %d: %s cannot %s" % (lineno, step, verb))
	if verb == "drop":
		if len(words) != 1:
			raise RuleError("line %d: drop takes no argument" % lineno)
		return Action("drop", text=rest)
	if len(words) < 2:
		raise RuleError("line %d: extra wants a reply" % lineno)
	return Action("extra", data=parse_reply(words[1:], lineno), text=rest)


def wire_option(r, word, rest):
	"""Whole-session options of the protocol checks; True if word is
	one. strict: early input gets OpenSMTPD's 500 and a close.
	nopipelining: do not offer PIPELINING. noehlo: EHLO gets 502,
	HELO works (a pre-ESMTP server)."""
	if rest or word not in ("strict", "nopipelining", "noehlo"):
		return False
	if word == "nopipelining":
		r.drop.add("PIPELINING")
	else:
		setattr(r, word, True)
	return True


class Rules:
	def __init__(self):
		self.steps = {}		# (step, n or None) -> Action
		self.sessions = 0
		self.nostarttls = False
		self.noauth = False
		self.authoptional = False	# AUTH offered, not required
		self.scram_forge = False	# --provider scram: bad v=
		self.chunking = False	# offer CHUNKING (RFC 3030)
		self.inject = None
		self.inject_late = None	# sent once the ClientHello is in
		self.extra = []		# extra EHLO lines
		self.drop = set()	# EHLO keywords not to advertise
		self.strict = False	# early input: 500 and close
		self.noehlo = False	# EHLO not recognized, HELO works
		self.count = 0		# lines that did something
		self.rcpt_limit = 0	# rcpt-limit N: 452 past N (issue 22)

	def action(self, step, n):
		return self.steps.get((step, n)) or self.steps.get((step, None))


def parse_rules(text):
	r = Rules()
	for lineno, line in enumerate(text.splitlines(), 1):
		line = line.strip()
		if not line or line.startswith("#"):
			continue
		r.count += 1
		parts = line.split(None, 1)
		word, rest = parts[0], (parts[1] if len(parts) > 1 else "")
		if word == "sessions":
			if not rest.isdigit():
				raise RuleError("line %d: sessions wants a number" %
				    lineno)
			r.sessions = int(rest)
		elif word in ("nostarttls", "noauth", "authoptional",
		    "scram-forge", "chunking") and not rest:
			word = word.replace("-", "_")
			setattr(r, word, True)
		elif word == "inject-after-starttls" and rest:
			r.inject = unescape(rest)
		elif word == "inject-late-after-starttls" and rest:
			r.inject_late = unescape(rest)
		elif word == "ehlo-extra" and rest:
			r.extra.append(rest)
		elif word == "ehlo-drop" and rest:
			r.drop.add(rest.upper())
		elif wire_option(r, word, rest):
			pass
		elif word == "rcpt-limit":
			r.rcpt_limit = parse_rcpt_limit(rest, lineno)
		else:
			m = re.fullmatch(r"([a-z-]+)(?:#([1-9][0-9]*))?", word)
			if not m or m.group(1) not in STEPS:
				raise RuleError("line %d: unknown rule %r" %
				    (lineno, word))
			key = (m.group(1), int(m.group(2)) if m.group(2) else None)
			if key in r.steps:
				raise RuleError("line %d: second rule for %s" %
				    (lineno, word))
			r.steps[key] = parse_action(key[0], rest, lineno)
	return r


def parse_rcpt_limit(rest, lineno):
	"""rcpt-limit N: like Postfix's smtpd_recipient_limit (N >= 1)."""
	if not rest.isdigit() or int(rest) < 1:
		raise RuleError("line %d: rcpt-limit wants a number >= 1" %
		    lineno)
	return int(rest)


class RuleBook:
	"""The rules file, and how many connections it has seen.

	The count starts again whenever the file is rewritten (new inode,
	mtime, size or content), so "sessions N" counts from the rewrite.
	"""

	def __init__(self, path):
		self.path = path
		self.lock = threading.Lock()
		self.key = None
		self.n = 0

	def for_connection(self):
		"""-> (Rules or None, session index, note, error or None)."""
		text, key = "", None
		with self.lock:
			if self.path:
				try:
					with open(self.path, encoding="utf-8") as f:
						st = os.fstat(f.fileno())
						text = f.read()
					key = (st.st_ino, st.st_mtime_ns, st.st_size, text)
				except FileNotFoundError:
					pass
			if key != self.key:
				self.key = key
				self.n = 0
			self.n += 1
			n = self.n
		try:
			r = parse_rules(text)
		except RuleError as e:
			return None, n, "", str(e)
		if r.count == 0:
			return Rules(), n, "none", None
		if r.sessions and n > r.sessions:
			return Rules(), n, "not applied (session %d of %d)" % (
			    n, r.sessions), None
		return r, n, "%d applied (session %d%s)" % (r.count, n,
		    " of %d" % r.sessions if r.sessions else ""), None


class Log:
	def __init__(self, path):
		self.lock = threading.Lock()
		self.f = open(path, "a", encoding="utf-8",
		    errors="backslashreplace") if path else sys.stderr

	def __call__(self, cid, text):
		t = time.time()
		stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t))
		line = "%s.%03d [%s] %s\n" % (stamp, int(t * 1000) % 1000, cid,
		    text)
		with self.lock:
			self.f.write(line)
			self.f.flush()


class Server:
	def __init__(self, args, log):
		self.args = args
		self.log = log
		self.rules = RuleBook(args.rules)
		self.lock = threading.Lock()
		self.conn_seq = 0
		self.msg_seq = 0
		self.ctx = None
		if args.tls != "none":
			ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
			ctx.minimum_version = ssl.TLSVersion.TLSv1_2
			if args.tls_min == "1.3":
				ctx.minimum_version = ssl.TLSVersion.TLSv1_3
			if args.ciphers:
				ctx.set_ciphers(args.ciphers)
			ctx.load_cert_chain(args.cert, args.key)
			self.ctx = ctx

	def next_conn(self):
		with self.lock:
			self.conn_seq += 1
			return self.conn_seq

	def next_msg(self):
		with self.lock:
			self.msg_seq += 1
			return self.msg_seq


def b64decode(s):
	try:
		return base64.b64decode(s, validate=True)
	except (binascii.Error, ValueError):
		return None


class Session:
	def __init__(self, srv, sock, peer, cid):
		self.srv = srv
		self.args = srv.args
		self.raw = sock
		self.sock = sock
		self.peer = peer
		self.cid = cid
		self.buf = bytearray()
		self.tls = False
		self.ehlo = False
		self.esmtp = False	# the greeting was EHLO, not HELO
		self.authed = False
		self.counts = {}
		self.size_limit = SIZE_LIMIT
		self.reset()

	def log(self, text):
		self.srv.log(self.cid, text)

	def reset(self):
		self.mail_from = None
		self.rcpts = []
		self.rcpt_n = 0
		self.chunks = []	# BDAT data so far
		self.bdat_n = 0		# BDAT commands in the transaction

	# ---- I/O

	def recv_more(self):
		try:
			d = self.sock.recv(65536)
		except socket.timeout:
			self.log("timeout: client silent for %gs" % self.args.timeout)
			raise ClientGone()
		except (ConnectionError, ssl.SSLError) as e:
			self.log("read error: %s" % e)
			raise ClientGone()
		if not d:
			raise ClientGone()
		self.buf += d

	def read_line(self, limit=CMD_LINE_SIZE):
		"""One line with its end; None if it was longer than limit."""
		toolong = False
		while True:
			i = self.buf.find(b"\n")
			if i >= 0:
				line = bytes(self.buf[:i + 1])
				del self.buf[:i + 1]
				return None if toolong else line
			if limit and len(self.buf) > limit:
				toolong = True
				self.buf.clear()
			self.recv_more()

	def send(self, data):
		for ln in data.split(b"\n"):
			if ln:
				self.log("> " + ln.rstrip(b"\r").decode("latin-1"))
		try:
			self.sock.sendall(data)
		except (OSError, ssl.SSLError) as e:
			self.log("write error: %s" % e)
			raise ClientGone()

	def reply(self, code, text):
		self.send(("%s %s\r\n" % (code, text)).encode("utf-8"))

	def drain_plain(self, secs):
		"""Bytes readable on the plain socket within secs; discarded."""
		n = 0
		end = time.monotonic() + secs
		while True:
			left = end - time.monotonic()
			if left <= 0:
				break
			r, _, _ = select.select([self.raw], [], [], left)
			if not r:
				break
			try:
				d = self.raw.recv(65536, socket.MSG_DONTWAIT)
			except BlockingIOError:
				continue
			except OSError:
				break
			if not d:
				break
			n += len(d)
		return n

	# ---- faults

	def fault(self, step, n=None):
		"""Count the step; apply its rule. None: behave. Else the
		Action whose reply replaces ours (close and stall do not
		return)."""
		if n is None:
			n = self.counts[step] = self.counts.get(step, 0) + 1
		a = self.rules.action(step, n)
		if a is None:
			return None
		self.log("fault: %s#%d %s" % (step, n, a.text))
		return self.apply(a)

	def apply(self, a):
		if a.kind == "close":
			raise Hangup("fault: close")
		if a.kind == "stall":
			self.stall()
		if a.kind == "drip":
			self.drip(a.data)
		if a.kind == "endless":
			self.endless()
		if a.kind == "delay":
			time.sleep(a.secs)
			if a.data is None:
				return None
		return a

	def stall(self):
		"""Say nothing; read and drop input until the client goes."""
		n = len(self.buf)
		self.buf.clear()
		end = time.monotonic() + self.args.stall_max
		quit_seen = False
		why = "--stall-max reached"
		while time.monotonic() < end:
			try:
				d = self.sock.recv(65536)
			except socket.timeout:
				continue
			except (OSError, ssl.SSLError):
				why = "client went"
				break
			if not d:
				why = "client went"
				break
			n += len(d)
			quit_seen = quit_seen or b"QUIT\r\n" in d
		# a client that QUITs after a stall waits a second timeout
		self.log("stall ended: client sent %d bytes meanwhile%s (%s)" % (
		    n, ", QUIT among them" if quit_seen else "", why))
		raise ClientGone()

	def slow_send(self, chunks, pause):
		"""Send each chunk after pause seconds, until the client goes
		(a write fails or it sends EOF) or --stall-max passes."""
		end = time.monotonic() + self.args.stall_max
		n = 0
		for c in chunks:
			if time.monotonic() >= end:
				break
			r, _, _ = select.select([self.sock], [], [], pause)
			if r:
				try:
					if not self.sock.recv(65536):
						break
				except (OSError, ssl.SSLError):
					break
			try:
				self.sock.sendall(c)
			except (OSError, ssl.SSLError):
				break
			n += 1
		return n

	def drip(self, data):
		"""The reply one byte a second: each read is quick, the whole
		is not."""
		n = self.slow_send((data[i:i + 1] for i in range(len(data))),
		    1.0)
		self.log("drip ended after %d of %d bytes" % (n, len(data)))
		raise ClientGone()

	def endless(self):
		"""250- continuation lines without end, 100 a second."""
		def lines():
			while True:
				yield b"250-and more\r\n"
		n = self.slow_send(lines(), 0.01)
		self.log("endless reply ended after %d lines" % n)
		raise ClientGone()

	def fault_reply(self, a):
		"""Send a rule's refusal. True if handled (step not done)."""
		if a is None or a.positive():
			return False
		self.send(a.data)
		if a.closing():
			raise Hangup("421 sent")
		return True

	def ok(self, a, default):
		"""The success reply, or the rule's positive one instead."""
		if a is not None and a.kind in WIRE_ACTIONS:
			return self.wire_reply(a, default)
		self.send(a.data if a is not None else default)
		if a is not None and a.closing():
			raise Hangup("421 sent")

	# ---- the session

	def run(self):
		peer = "%s:%d" % self.peer[:2]
		self.log("connect from %s" % peer)
		try:
			self.session()
		except ClientGone:
			pass
		except Hangup as e:
			self.log("hanging up: %s" % e)
			self.linger()
		except Exception:
			self.log("internal error: " +
			    traceback.format_exc().replace("\n", " | "))
			traceback.print_exc()
		finally:
			try:
				self.sock.close()
			except OSError:
				pass
			self.log("closed")

	def linger(self):
		"""Close our end, then read what the client still sends until
		it closes too (at most 2 s): a close() with unread input sends
		a TCP RST, and that can destroy the replies written just
		before, which a client that pipelines has not read yet."""
		try:
			self.sock.shutdown(socket.SHUT_WR)
			end = time.monotonic() + 2
			while time.monotonic() < end:
				r, _, _ = select.select([self.sock], [], [],
				    end - time.monotonic())
				if not r or not self.sock.recv(65536):
					break
		except (OSError, ValueError):
			pass

	def session(self):
		rules, n, note, err = self.srv.rules.for_connection()
		self.rules = rules or Rules()
		if err:
			# Loud, so that a typo in a test cannot pass unseen.
			self.log("rules error: %s" % err)
			sys.stderr.write("faultd: rules: %s\n" % err)
		else:
			self.log("rules: %s" % note)
		if self.args.tls == "implicit":
			self.start_tls()
		if err:
			self.send(("421 4.3.0 faultd: bad rules file: %s\r\n" %
			    err).encode("utf-8"))
			raise Hangup("bad rules")
		a = self.fault("greeting")
		if a is not None:
			self.send(a.data)
			if not a.positive() or a.closing():
				raise Hangup("greeting refused")
		else:
			self.reply(220, "%s ESMTP faultd" % self.args.hostname)
		while True:
			self.command()

	def start_tls(self):
		a = self.fault("tls")
		if a is not None and a.kind == "raw":
			# e.g. a fatal alert instead of a ServerHello: read the
			# ClientHello first, so the close sends no RST
			self.drain_plain(0.5)
			self.raw.sendall(a.data)
			raise Hangup("tls: raw bytes sent")
		s = self.srv.ctx.wrap_socket(self.raw, server_side=True,
		    do_handshake_on_connect=False)
		s.settimeout(self.args.timeout)
		try:
			s.do_handshake()
		except (OSError, ssl.SSLError) as e:
			self.log("tls handshake failed: %s" % e)
			raise Hangup("no TLS")
		self.sock = s
		self.tls = True
		self.log("tls: %s %s" % (s.version(), s.cipher()[0]))

	def warn_pipelined(self, verb):
		if self.buf and verb in MUST_BE_LAST:
			self.log("warning: %d bytes pipelined after %s" %
			    (len(self.buf), verb))

	def command(self):
		line = self.read_line()
		if line is None:
			self.log("< (line longer than %d bytes)" % CMD_LINE_SIZE)
			self.reply(500, "5.5.0 Error: line too long")
			return
		if not line.endswith(b"\r\n"):
			self.log("warning: command line ends in bare LF")
		text = line.rstrip(b"\r\n").decode("latin-1")
		verb, _, arg = text.partition(" ")
		verb = verb.upper()
		if verb == "AUTH":
			mech = arg.split(" ", 1)
			shown = "AUTH " + mech[0] + (" ***" if len(mech) > 1 else "")
			self.log("< " + shown)
		else:
			self.log("< " + text)
		if "PIPELINING" in self.drop_keywords() and self.buf:
			self.log("warning: %d bytes pipelined without PIPELINING" %
			    len(self.buf))
		else:
			self.warn_pipelined(verb)
		if self.rules.strict and self.strict_early(verb, arg):
			self.strict_refuse()
		h = {
			"EHLO": self.do_ehlo, "HELO": self.do_ehlo,
			"STARTTLS": self.do_starttls, "AUTH": self.do_auth,
			"MAIL": self.do_mail, "RCPT": self.do_rcpt,
			"DATA": self.do_data, "RSET": self.do_rset,
			"BDAT": self.do_bdat,
			"NOOP": self.do_noop, "QUIT": self.do_quit,
		}.get(verb)
		if h is None:
			if not text:
				self.reply(500, "5.5.2 Error: bad syntax")
			elif verb == "VRFY":
				self.reply(252, "2.0.0 Cannot VRFY user")
			else:
				self.reply(502, "5.5.2 Error: command not recognized")
			return
		h(verb, arg)

	def drop_keywords(self):
		d = set(self.rules.drop)
		if self.rules.nostarttls:
			d.add("STARTTLS")
		if self.rules.noauth:
			d.add("AUTH")
		return d

	def starttls_offered(self):
		return self.args.tls == "starttls" and not self.tls and \
		    "STARTTLS" not in self.drop_keywords()

	def auth_offered(self):
		return bool(self.args.user) and \
		    (self.tls or self.args.tls == "none") and \
		    "AUTH" not in self.drop_keywords()

	def do_ehlo(self, verb, arg):
		if self.wire_ehlo(verb):
			return
		a = self.fault("ehlo")
		if self.fault_reply(a):
			return
		if not arg.strip():
			self.reply(501, "5.5.4 Syntax: %s hostname" % verb)
			return
		self.ehlo = True
		self.reset()
		if verb == "HELO":
			self.ok(a, ("250 %s\r\n" % self.args.hostname).encode())
			return
		lines = [("PIPELINING", "PIPELINING"),
		    ("SIZE", "SIZE %d" % SIZE_LIMIT), ("8BITMIME", "8BITMIME")]
		if self.starttls_offered():
			lines.append(("STARTTLS", "STARTTLS"))
		if self.auth_offered():
			lines.append(("AUTH", PROVIDER_AUTH.get(self.args.provider,
			    "AUTH PLAIN LOGIN CRAM-MD5")))
		if self.rules.chunking:
			lines.append(("CHUNKING", "CHUNKING"))
		self.size_limit = SIZE_LIMIT
		for x in self.rules.extra:
			kw = x.split()[0].upper()
			if kw == "SIZE" and len(x.split()) > 1 and \
			    x.split()[1].isdigit():
				self.size_limit = int(x.split()[1]) or SIZE_LIMIT
			lines = [ln for ln in lines if ln[0] != kw]
			lines.append((kw, x))
		drop = self.drop_keywords()
		out = [self.args.hostname] + \
		    [t for kw, t in lines if kw not in drop]
		data = b"".join(("250%s%s\r\n" % ("-" if i < len(out) - 1 else
		    " ", t)).encode() for i, t in enumerate(out))
		self.ok(a, data)

	# ---- protocol checks: strict mode, odd replies, no EHLO

	def wire_ehlo(self, verb):
		"""noehlo: a server from before ESMTP. True if handled."""
		self.esmtp = verb == "EHLO"
		if verb == "EHLO" and self.rules.noehlo:
			self.reply(502, "5.5.2 Error: command not recognized")
			return True
		return False

	def pipelining_offered(self):
		return self.ehlo and self.esmtp and \
		    "PIPELINING" not in self.drop_keywords()

	def input_waiting(self):
		"""Client bytes already here, or within --strict-grace."""
		if self.buf or (self.tls and self.sock.pending()):
			return True
		r, _, _ = select.select([self.sock], [], [],
		    self.args.strict_grace)
		if r:
			self.recv_more()	# ClientGone at EOF: not early
		return bool(self.buf)

	def strict_early(self, verb, arg):
		"""Did the client send on before a reply it must await? Without
		PIPELINING every reply must be awaited (RFC 2920 2); with it,
		those that end a group (3.1), and AUTH but PLAIN with its
		initial response (RFC 4954 4). STARTTLS drops early bytes
		(do_starttls); BDAT's data follows it by design."""
		if verb in ("STARTTLS", "BDAT"):
			return False
		if self.pipelining_offered():
			if verb == "AUTH":
				w = arg.split()
				if len(w) == 2 and w[0].upper() == "PLAIN":
					return False
			elif verb not in MUST_BE_LAST:
				return False
		if verb == "QUIT":
			return bool(self.buf)	# a close after it is no input
		return self.input_waiting()

	def strict_refuse(self):
		"""What OpenSMTPD says to early input; then it closes."""
		self.log("strict: input before the reply it must wait for")
		self.reply(500, "5.5.1 Invalid command: Pipelining not supported")
		raise Hangup("strict: early input")

	def wire_reply(self, a, default):
		"""drop: no reply at all; extra: the reply, then one more."""
		if a.kind == "drop":
			self.log("reply dropped: %s" % default.decode(
			    "latin-1").strip())
			return
		self.send(default + a.data)

	def do_starttls(self, verb, arg):
		if self.args.tls != "starttls" or self.tls or \
		    "STARTTLS" in self.drop_keywords():
			self.reply(502 if not self.tls else 503,
			    "5.5.1 Error: STARTTLS not available")
			return
		if arg:
			self.reply(501, "5.5.4 Syntax: STARTTLS")
			return
		a = self.fault("starttls")
		if self.fault_reply(a):
			return
		# RFC 3207 5: whatever the client sent after STARTTLS is not
		# part of the TLS session. Count it (with what comes in a short
		# grace time) and drop it: a client that pipelines here is
		# wrong, and a test greps this line.
		n = len(self.buf)
		self.buf.clear()
		n += self.drain_plain(self.args.starttls_grace)
		self.log("injected client bytes discarded: %d" % n)
		data = a.data if a is not None else b"220 2.0.0 Ready to start TLS\r\n"
		if self.rules.inject:
			# One send: the reply and the injection travel together,
			# as a man in the middle would append them.
			data += self.rules.inject
			self.log("injecting %d plaintext bytes after the STARTTLS"
			    " reply: %r" % (len(self.rules.inject), self.rules.inject))
		self.send(data)
		if self.rules.inject_late:
			self.inject_late()
		self.start_tls()
		self.ehlo = False
		self.authed = False
		self.reset()

	def inject_late(self):
		"""Send the late injection once the client's first TLS bytes
		are here: by then it has read the 220 and begun its handshake,
		so the bytes arrive on their own, where a TLS record should be.
		"""
		r, _, _ = select.select([self.raw], [], [], self.args.timeout)
		self.log("injecting %d plaintext bytes after the ClientHello%s:"
		    " %r" % (len(self.rules.inject_late), "" if r else
		    " (none came)", self.rules.inject_late))
		try:
			self.raw.sendall(self.rules.inject_late)
		except OSError as e:
			self.log("write error: %s" % e)
			raise ClientGone()

	def read_auth_line(self):
		line = self.read_line()
		if line is None:
			self.log("< (AUTH line too long)")
			return None
		self.log("< ***")
		return line.rstrip(b"\r\n")

	def do_auth(self, verb, arg):
		if not self.ehlo:
			self.reply(503, "5.5.1 Error: send EHLO first")
			return
		if not self.args.user or "AUTH" in self.drop_keywords():
			self.reply(502, "5.5.1 Error: authentication not enabled")
			return
		if not self.tls and self.args.tls != "none":
			self.reply(538, "5.7.11 Encryption required for requested"
			    " authentication mechanism")
			return
		if self.authed:
			self.reply(503, "5.5.1 Error: already authenticated")
			return
		if self.mail_from is not None:
			self.reply(503, "5.5.1 Error: MAIL transaction in progress")
			return
		a = self.fault("auth")
		if self.fault_reply(a):
			return
		if a is not None:
			self.authed = True
			self.log("auth: accepted without checking (rule)")
			self.ok(a, b"")
			return
		parts = arg.split(" ")
		mech = parts[0].upper()
		ir = parts[1] if len(parts) > 1 else None
		user = pw = None
		if self.args.provider and mech in ("XOAUTH2", "OAUTHBEARER",
		    "SCRAM-SHA-256"):
			return self.provider_auth(mech, ir)
		if mech == "PLAIN":
			if ir is None:
				self.send(b"334 \r\n")
				ir = self.read_auth_line()
				if ir is None or ir == b"*":
					return self.auth_abort()
			raw = b"" if ir in ("=", b"=") else b64decode(ir)
			f = raw.split(b"\0") if raw is not None else []
			if len(f) != 3:
				self.reply(501, "5.5.2 Error: malformed PLAIN response")
				return
			if f[0] and f[0] != f[1]:
				self.log("auth: PLAIN authzid differs from authcid")
			user, pw = f[1], f[2]
		elif mech == "LOGIN":
			if ir is None:
				self.send(b"334 VXNlcm5hbWU6\r\n")
				ir = self.read_auth_line()
				if ir is None or ir == b"*":
					return self.auth_abort()
			user = b64decode(ir)
			self.send(b"334 UGFzc3dvcmQ6\r\n")
			r = self.read_auth_line()
			if r is None or r == b"*":
				return self.auth_abort()
			pw = b64decode(r)
			if user is None or pw is None:
				self.reply(501, "5.5.2 Error: malformed LOGIN response")
				return
		elif mech == "CRAM-MD5":
			if ir is not None:
				self.reply(501, "5.5.2 Error: CRAM-MD5 takes no"
				    " initial response")
				return
			chal = ("<%d.%d@%s>" % (int.from_bytes(os.urandom(6),
			    "big"), int(time.time()), self.args.hostname)).encode()
			self.send(b"334 " + base64.b64encode(chal) + b"\r\n")
			r = self.read_auth_line()
			if r is None or r == b"*":
				return self.auth_abort()
			raw = b64decode(r)
			f = raw.rsplit(b" ", 1) if raw else []
			if len(f) != 2:
				self.reply(501, "5.5.2 Error: malformed CRAM-MD5"
				    " response")
				return
			user = f[0]
			want = hmac.new(self.args.password.encode(), chal,
			    hashlib.md5).hexdigest().encode()
			pw = self.args.password.encode() \
			    if hmac.compare_digest(want, f[1].lower()) else None
		else:
			self.reply(504, "5.5.4 Error: unsupported authentication"
			    " mechanism")
			return
		if user == self.args.user.encode() and pw is not None and \
		    hmac.compare_digest(pw, self.args.password.encode()):
			self.authed = True
			self.log("auth: %s ok" % mech)
			self.reply(235, "2.7.0 Authentication successful")
		else:
			self.log("auth: %s failed" % mech)
			self.reply(535, "5.7.8 Error: authentication failed")

	# ---- provider imitations (--provider); the token is --password

	def auth_done(self, mech, ok, fail):
		if ok:
			self.authed = True
			self.log("auth: %s ok" % mech)
			self.reply(235, "2.7.0 Authentication successful")
		else:
			self.log("auth: %s failed" % mech)
			self.send(fail)

	def provider_auth(self, mech, ir):
		if mech == "SCRAM-SHA-256":
			return self.scram_auth(ir)
		if ir is None:		# Microsoft allows the two-step form
			self.send(b"334 \r\n")
			ir = self.read_auth_line()
			if ir is None or ir == b"*":
				return self.auth_abort()
		raw = b64decode(ir) or b""
		if mech == "XOAUTH2":
			f = raw.split(b"\x01")
			user = f[0][5:] if f[0].startswith(b"user=") else None
			auth = f[1] if len(f) == 4 and not f[2] and not f[3] \
			    else b""
		else:
			# RFC 7628 3.1: gs2-header, then kvpairs, ^A^A at the end
			f = raw.split(b"\x01")
			gs2 = f[0].split(b",")
			user = gs2[1][2:] if len(gs2) == 3 and \
			    gs2[1].startswith(b"a=") else None
			auth = ([x for x in f[1:] if x.startswith(b"auth=")] or
			    [b""])[0]
			kv = [x for x in f[1:] if x]
			self.log("auth: OAUTHBEARER keys %s" % " ".join(
			    sorted(x.split(b"=")[0].decode("latin-1")
			    for x in kv)))
		want = b"auth=Bearer " + self.args.password.encode()
		ok = user == self.args.user.encode() and \
		    hmac.compare_digest(auth, want)
		if ok:
			return self.auth_done(mech, True, None)
		self.log("auth: %s failed" % mech)
		p = self.args.provider
		if p == "microsoft":
			# Exchange Online answers a bad token at once, no JSON
			self.send(b"535 5.7.3 Authentication unsuccessful"
			    b" [faultd.microsoft]\r\n")
			return
		if mech == "XOAUTH2":
			js = {"status": "400", "schemes": "Bearer",
			    "scope": "https://mail.google.com/"}
			end = b"535-5.7.8 Username and Password not accepted." \
			    b" For more information, go to\r\n535 5.7.8 " \
			    b" https://support.google.com/mail/?p=BadCredentials" \
			    b" faultd.gmail\r\n"
		else:
			js = {"status": "invalid_token", "scope":
			    "https://mail.example/smtp", "openid-configuration":
			    "https://auth.example/.well-known/openid-configuration"}
			end = b"535 5.7.8 Authentication credentials invalid\r\n"
		chal = base64.b64encode(json.dumps(js).encode())
		self.send(b"334 " + chal + b"\r\n")
		r = self.read_auth_line()
		if r is None:
			return self.auth_abort()
		# RFC 7628 3.2.3: the client answers %x01; Google takes ""
		dummy = b"AQ==" if mech == "OAUTHBEARER" else b""
		self.log("auth: error challenge answered %s" %
		    ("as expected" if r == dummy else "with %r" % r))
		self.send(end)

	def scram_auth(self, ir):
		if ir is None:
			self.send(b"334 \r\n")
			ir = self.read_auth_line()
			if ir is None or ir == b"*":
				return self.auth_abort()
		cfirst = (b64decode(ir) or b"").decode("latin-1")
		if not cfirst.startswith("n,,"):
			self.reply(501, "5.5.2 Error: bad SCRAM client-first")
			return
		bare = cfirst[3:]
		attrs = dict(a.split("=", 1) for a in bare.split(",") if "=" in a)
		user = attrs.get("n", "").replace("=2C", ",").replace("=3D", "=")
		nonce = attrs.get("r", "") + base64.b64encode(
		    os.urandom(12)).decode()
		salt = os.urandom(16)
		it = 4096
		sfirst = "r=%s,s=%s,i=%d" % (nonce,
		    base64.b64encode(salt).decode(), it)
		self.send(b"334 " + base64.b64encode(sfirst.encode()) + b"\r\n")
		r = self.read_auth_line()
		if r is None or r == b"*":
			return self.auth_abort()
		cfinal = (b64decode(r) or b"").decode("latin-1")
		without, _, proof = cfinal.rpartition(",p=")
		am = (bare + "," + sfirst + "," + without).encode()
		salted = hashlib.pbkdf2_hmac("sha256",
		    self.args.password.encode(), salt, it)
		ckey = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
		stored = hashlib.sha256(ckey).digest()
		csig = hmac.new(stored, am, hashlib.sha256).digest()
		want = bytes(a ^ b for a, b in zip(ckey, csig))
		skey = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
		ssig = hmac.new(skey, am, hashlib.sha256).digest()
		ok = user == self.args.user and \
		    without == "c=biws,r=" + nonce and \
		    hmac.compare_digest(b64decode(proof) or b"", want)
		if not ok:
			self.log("auth: SCRAM-SHA-256 failed")
			self.reply(535, "5.7.8 Error: authentication failed")
			return
		if self.rules.scram_forge:
			# an impostor that accepts any proof cannot sign
			ssig = bytes([ssig[0] ^ 1]) + ssig[1:]
			self.log("auth: SCRAM-SHA-256 server signature forged")
		self.send(b"334 " + base64.b64encode(b"v=" +
		    base64.b64encode(ssig)) + b"\r\n")
		r = self.read_auth_line()
		if r is None or r == b"*":
			self.log("auth: SCRAM-SHA-256 client refused the server")
			return self.auth_abort()
		self.auth_done("SCRAM-SHA-256", True, None)

	def auth_abort(self):
		self.reply(501, "5.7.0 Authentication aborted")

	def need_auth(self):
		if not self.args.user or self.authed or self.rules.noehlo or \
		    self.rules.authoptional:
			return False
		if self.args.tls == "starttls" and not self.tls:
			self.reply(530, "5.7.0 Must issue a STARTTLS command first")
		else:
			self.reply(530, "5.7.0 Authentication required")
		return True

	def do_mail(self, verb, arg):
		if not self.ehlo:
			self.reply(503, "5.5.1 Error: send HELO/EHLO first")
			return
		if self.need_auth():
			return
		if self.mail_from is not None:
			self.reply(503, "5.5.1 Error: nested MAIL command")
			return
		a = self.fault("mail")
		if self.fault_reply(a):
			return
		m = re.fullmatch(r"FROM:\s*<([^<>]*)>((?: +\S+)*) *", arg,
		    re.IGNORECASE)
		if not m:
			self.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
			return
		for p in m.group(2).split():
			k, _, v = p.partition("=")
			k = k.upper()
			if k == "SIZE" and v.isdigit():
				if int(v) > self.size_limit:
					self.reply(552, "5.3.4 Message size exceeds"
					    " fixed limit")
					return
			elif k == "BODY" and v.upper() in ("7BIT", "8BITMIME"):
				pass
			elif k == "AUTH" and v:
				pass
			else:
				self.reply(555, "5.5.4 Unsupported option: %s" % p)
				return
		self.mail_from = m.group(1)
		self.rcpts = []
		self.rcpt_n = 0
		self.ok(a, b"250 2.1.0 Ok\r\n")

	def do_rcpt(self, verb, arg):
		if self.mail_from is None:
			self.reply(503, "5.5.1 Error: need MAIL command")
			return
		self.rcpt_n += 1
		# rcpt#N counts within the transaction, so that it means the
		# same in every message of a session.
		a = self.fault("rcpt", self.rcpt_n)
		if self.fault_reply(a) or self.too_many_rcpts():
			return
		m = re.fullmatch(r"TO:\s*<([^<>]+)> *", arg, re.IGNORECASE)
		if not m:
			self.reply(501, "5.1.3 Bad recipient address syntax")
			return
		self.rcpts.append(m.group(1))
		self.ok(a, b"250 2.1.5 Ok\r\n")

	def too_many_rcpts(self):
		"""rcpt-limit: refuse RCPTs past the limit as Postfix does."""
		if self.rules.rcpt_limit and \
		    len(self.rcpts) >= self.rules.rcpt_limit:
			self.reply(452, "4.5.3 Error: too many recipients")
			return True
		return False

	def have_envelope(self):
		"""DATA and BDAT need MAIL and a recipient; else say why."""
		if self.mail_from is None:
			self.reply(503, "5.5.1 Error: need MAIL command")
			return False
		if not self.rcpts:
			self.reply(554, "5.5.1 Error: no valid recipients")
			return False
		return True

	def do_data(self, verb, arg):
		if not self.have_envelope():
			return
		if arg:
			self.reply(501, "5.5.4 Syntax: DATA")
			return
		a = self.fault("data")
		if self.fault_reply(a):
			return
		self.ok(a, b"354 End data with <CR><LF>.<CR><LF>\r\n")
		self.counts["data-mid"] = n = self.counts.get("data-mid", 0) + 1
		mid = self.rules.action("data-mid", n)
		data = self.read_data(mid, n)
		self.end_of_data(data)

	def read_data(self, mid, n):
		"""The message up to the final dot, dot-unstuffed."""
		out = []
		total = bare = barecr = longest = 0
		while True:
			try:
				line = self.read_line(limit=None)
			except ClientGone:
				self.log("client gone during DATA after %d bytes" % total)
				raise
			total += len(line)
			if mid is not None and total >= mid.after:
				self.log("fault: data-mid#%d %s (at %d bytes)" % (n,
				    mid.text, total))
				self.buf.clear()
				self.apply(mid)
			if line in (b".\r\n", b".\n"):
				break
			if not line.endswith(b"\r\n"):
				bare += 1
			barecr += line.rstrip(b"\r\n").count(b"\r")
			longest = max(longest, len(line.rstrip(b"\r\n")))
			if line.startswith(b"."):
				line = line[1:]
			out.append(line)
		data = b"".join(out)
		self.log("data: %d bytes, %d lines, longest %d, bare LF %d,"
		    " bare CR %d" % (len(data), len(out), longest, bare, barecr))
		if self.buf:
			self.log("warning: %d bytes pipelined after the final dot"
			    % len(self.buf))
		if self.rules.strict and not self.pipelining_offered() and \
		    self.input_waiting():
			self.strict_refuse()
		return data

	def read_chunk(self, size):
		"""Exactly size bytes of BDAT data (RFC 3030 2: read even when
		the command is refused)."""
		while len(self.buf) < size:
			self.recv_more()
		data = bytes(self.buf[:size])
		del self.buf[:size]
		return data

	def do_bdat(self, verb, arg):
		m = re.fullmatch(r"(\d{1,12})( +LAST)? *", arg, re.IGNORECASE)
		if not m or not self.rules.chunking:
			# without a size the data cannot be skipped: like
			# Postfix, give up on the session
			self.reply(500 if m is None else 502,
			    "5.5.4 Error: BDAT not understood")
			if m is None:
				raise Hangup("bad BDAT")
			self.read_chunk(int(m.group(1)))
			return
		size, last = int(m.group(1)), m.group(2) is not None
		chunk = self.read_chunk(size)
		if not self.have_envelope():
			return
		self.bdat_n += 1
		a = self.fault("bdat", self.bdat_n)
		if self.fault_reply(a):
			# RFC 3030 2: the transaction is over; later chunks
			# already in the pipeline get 503
			self.reset()
			return
		self.chunks.append(chunk)
		if not last:
			self.ok(a, ("250 2.0.0 Ok: %d bytes\r\n" % size).encode())
			return
		data = b"".join(self.chunks)
		barecr = len(re.findall(rb"\r(?!\n)", data))
		barelf = len(re.findall(rb"(?<!\r)\n", data))
		self.log("bdat: %d bytes in %d chunks, bare LF %d, bare CR %d" %
		    (len(data), len(self.chunks), barelf, barecr))
		self.end_of_data(data)

	def end_of_data(self, data):
		"""The reply to a whole message, after DATA's dot or BDAT LAST."""
		a = self.fault("eod")
		if a is not None and not a.positive():
			self.send(a.data)
			self.reset()
			if a.closing():
				raise Hangup("421 sent")
			return
		if len(data) > self.size_limit:
			self.reply(552, "5.3.4 Message size exceeds fixed limit")
			self.reset()
			return
		name = self.save(data)
		self.reset()
		self.ok(a, ("250 2.0.0 Ok: queued as %s\r\n" % name).encode())

	def save(self, data):
		hdr = ("X-Fault-From: <%s>\r\n" % self.mail_from).encode("latin-1")
		for r in self.rcpts:
			hdr += ("X-Fault-To: <%s>\r\n" % r).encode("latin-1")
		seq = self.srv.next_msg()
		name = "%d.%d.%d" % (time.time_ns(), os.getpid(), seq)
		d = self.args.maildir
		tmp = os.path.join(d, ".tmp." + name)
		with open(tmp, "wb") as f:
			f.write(hdr + data)
			f.flush()
			os.fsync(f.fileno())
		os.rename(tmp, os.path.join(d, name + ".msg"))
		self.log("saved %s.msg from <%s> to %s" % (name, self.mail_from,
		    " ".join("<%s>" % r for r in self.rcpts)))
		return "F%d" % seq

	def do_rset(self, verb, arg):
		a = self.fault("rset")
		if self.fault_reply(a):
			return
		self.reset()
		self.ok(a, b"250 2.0.0 Ok\r\n")

	def do_noop(self, verb, arg):
		a = self.fault("noop")
		if self.fault_reply(a):
			return
		self.ok(a, b"250 2.0.0 Ok\r\n")

	def do_quit(self, verb, arg):
		a = self.fault("quit")
		if self.fault_reply(a):
			return
		self.ok(a, b"221 2.0.0 Bye\r\n")
		raise Hangup("QUIT")


def parse_listen(s):
	m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d+)|([0-9.]+):(\d+)", s)
	if not m:
		raise argparse.ArgumentTypeError("want ADDR:PORT or [ADDR6]:PORT")
	host = m.group(1) or m.group(3)
	port = int(m.group(2) or m.group(4))
	try:
		ip = ipaddress.ip_address(host)
	except ValueError:
		raise argparse.ArgumentTypeError("%s: not an IP address" % host)
	if not ip.is_loopback:
		raise argparse.ArgumentTypeError("%s: loopback addresses only"
		    % host)
	if not 0 < port < 65536:
		raise argparse.ArgumentTypeError("bad port %d" % port)
	return (socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
	    host, port)


def main():
	p = argparse.ArgumentParser(description="scriptable SMTP fault server")
	p.add_argument("--listen", type=parse_listen, action="append",
	    required=True, help="ADDR:PORT or [ADDR6]:PORT, loopback only;"
	    " may be repeated")
	p.add_argument("--tls", choices=("implicit", "starttls", "none"),
	    default="starttls")
	p.add_argument("--cert")
	p.add_argument("--key")
	p.add_argument("--tls-min", choices=("1.2", "1.3"), default="1.2",
	    help="lowest TLS version accepted (1.3: a TLS-1.3-only server)")
	p.add_argument("--ciphers", help="OpenSSL cipher string, e.g. "
	    "DEFAULT:@SECLEVEL=0 to serve SHA-1 or RSA-1024 certificates")
	p.add_argument("--maildir", required=True)
	p.add_argument("--log", help="event log (default stderr)")
	p.add_argument("--user")
	p.add_argument("--password")
	p.add_argument("--rules", help="rules file, re-read per connection")
	p.add_argument("--provider", choices=sorted(PROVIDER_AUTH),
	    help="imitate a provider's AUTH; the token is --password")
	p.add_argument("--pidfile")
	p.add_argument("--hostname", default=HOSTNAME)
	p.add_argument("--timeout", type=float, default=60.0,
	    help="seconds of client silence before we hang up")
	p.add_argument("--stall-max", type=float, default=600.0,
	    help="longest stall, seconds")
	p.add_argument("--starttls-grace", type=float, default=0.05,
	    help="seconds to wait for bytes pipelined after STARTTLS")
	p.add_argument("--strict-grace", type=float, default=0.05,
	    help="rules option strict: seconds to wait for early input")
	p.add_argument("--exit-with-parent", action="store_true",
	    help="exit when the parent process goes away")
	args = p.parse_args()
	if args.tls != "none" and not (args.cert and args.key):
		p.error("--tls %s needs --cert and --key" % args.tls)
	if bool(args.user) != (args.password is not None):
		p.error("--user and --password go together")
	os.makedirs(args.maildir, exist_ok=True)

	log = Log(args.log)
	try:
		srv = Server(args, log)
	except (OSError, ssl.SSLError) as e:
		sys.exit("faultd: TLS setup: %s" % e)

	stop = threading.Event()

	def on_signal(sig, frame):
		stop.set()
	signal.signal(signal.SIGTERM, on_signal)
	signal.signal(signal.SIGINT, on_signal)
	signal.signal(signal.SIGPIPE, signal.SIG_IGN)

	sel = selectors.DefaultSelector()
	socks = []
	for fam, host, port in args.listen:
		s = socket.socket(fam, socket.SOCK_STREAM)
		s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		if fam == socket.AF_INET6:
			s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
		try:
			s.bind((host, port))
		except OSError as e:
			sys.exit("faultd: bind %s port %d: %s" % (host, port,
			    e.strerror))
		s.listen(64)
		s.setblocking(False)
		sel.register(s, selectors.EVENT_READ)
		socks.append(s)
		log("-", "listening on %s port %d, tls %s" % (host, port,
		    args.tls))
	if args.pidfile:
		tmp = args.pidfile + ".tmp"
		with open(tmp, "w") as f:
			f.write("%d\n" % os.getpid())
		os.rename(tmp, args.pidfile)
	ppid = os.getppid()

	while not stop.is_set():
		if args.exit_with_parent and os.getppid() != ppid:
			log("-", "parent went away")
			break
		for key, _ in sel.select(0.2):
			try:
				c, peer = key.fileobj.accept()
			except (BlockingIOError, InterruptedError):
				continue
			c.setblocking(True)
			c.settimeout(args.timeout)
			sess = Session(srv, c, peer, srv.next_conn())
			threading.Thread(target=sess.run, daemon=True).start()
	for s in socks:
		s.close()
	if args.pidfile:
		try:
			with open(args.pidfile) as f:
				mine = f.read().strip() == str(os.getpid())
			if mine:
				os.unlink(args.pidfile)
		except OSError:
			pass
	log("-", "exiting")
	return 0


if __name__ == "__main__":
	sys.exit(main())
