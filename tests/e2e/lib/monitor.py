#!/usr/bin/python3
"""monitor.py: strict parsers for ferry's monitoring outputs (t_89).

  monitor.py json FILE       every line a JSON object with postqueue -j's
                             fields; prints one "id n_rcpts" line each
  monitor.py nagios FILE RC  the Nagios plugin guidelines' output: one
                             line "SERVICE STATUS - text | perfdata" whose
                             status matches the exit code RC
  monitor.py prom FILE       Prometheus text format 0.0.4, parsed by
                             prometheus_client; prints "name value" lines
Exits 1 with the reason on stderr when the input breaks a rule.
"""
import json
import re
import sys


def fail(why):
    sys.stderr.write("monitor.py: %s\n" % why)
    sys.exit(1)


def read_text(path):
    """The file as text; it must be valid UTF-8."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        fail("not UTF-8: %s" % e)


def check_json(path):
    text = read_text(path)
    if text and not text.endswith("\n"):
        fail("last line has no newline")
    for n, line in enumerate(text.splitlines(), 1):
        try:
            obj = json.loads(line)  # strict: no raw control characters
        except ValueError as e:
            fail("line %d: %s" % (n, e))
        want = {"queue_name": str, "queue_id": str, "arrival_time": int,
                "message_size": int, "sender": str, "recipients": list}
        for k, t in want.items():
            if not isinstance(obj.get(k), t):
                fail("line %d: %s missing or not %s" % (n, k, t.__name__))
        if obj["queue_name"] not in ("incoming", "deferred", "hold"):
            fail("line %d: queue_name %r" % (n, obj["queue_name"]))
        for r in obj["recipients"]:
            if not isinstance(r.get("address"), str):
                fail("line %d: a recipient without address" % n)
            if set(r) - {"address", "delay_reason"}:
                fail("line %d: unknown recipient field" % n)
        print(obj["queue_id"], obj["queue_name"], len(obj["recipients"]),
              json.dumps(obj["sender"]),
              " ".join(json.dumps(r["address"]) for r in obj["recipients"]),
              "|", " ".join(json.dumps(r.get("delay_reason", ""))
                            for r in obj["recipients"]))


# Nagios Plugin Development Guidelines, "Plugin Output" and
# "Performance data": 'label'=value[UOM];[warn];[crit];[min];[max]
NUM = r"-?[0-9]+(\.[0-9]+)?"
RANGE = r"@?(~|%s)?(:(%s)?)?" % (NUM, NUM)
PERF = re.compile(r"^([^'= ]+|'[^'=]+')=(%s|U)(s|ms|us|%%|B|KB|MB|TB|c)?"
                  r"(;(%s)?(;(%s)?(;(%s)?(;(%s)?)?)?)?)?$"
                  % (NUM, RANGE, RANGE, NUM, NUM))
STATUS = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


def check_nagios(path, rc):
    text = read_text(path)
    if not text.endswith("\n") or text.count("\n") != 1:
        fail("want exactly one line, got %r" % text)
    line = text[:-1]
    if len(line) > 4096:
        fail("line over 4 KB")
    if any(ord(c) < 32 or ord(c) == 127 for c in line):
        fail("control character in the line")
    if line.count("|") > 1:
        fail("more than one '|'")
    head, _, perf = line.partition("|")
    m = re.match(r"^FERRY (OK|WARNING|CRITICAL|UNKNOWN)( - .+)?$",
                 head.rstrip(" "))
    if not m:
        fail("status part %r" % head)
    if STATUS[m.group(1)] != rc:
        fail("status %s but exit code %d" % (m.group(1), rc))
    out = {}
    if perf:
        if not perf.startswith(" ") or perf.endswith(" "):
            fail("perfdata spacing %r" % perf)
        for item in perf.strip().split(" "):
            pm = PERF.match(item)
            if not pm:
                fail("perfdata item %r" % item)
            out[pm.group(1)] = item.split("=", 1)[1]
    print(m.group(1))
    for k, v in sorted(out.items()):
        print(k, v)


def check_prom(path):
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        fail("python3-prometheus-client is not installed")
    text = read_text(path)
    if not text.endswith("\n"):
        fail("no final newline")
    seen = set()
    try:
        for fam in text_string_to_metric_families(text):
            if fam.name in seen:
                fail("family %s twice" % fam.name)
            seen.add(fam.name)
            if fam.type != "gauge":
                fail("%s: type %s" % (fam.name, fam.type))
            if not fam.documentation:
                fail("%s: no HELP" % fam.name)
            for s in fam.samples:
                labels = ",".join("%s=%s" % (k, json.dumps(v))
                                  for k, v in sorted(s.labels.items()))
                print(s.name + ("{%s}" % labels if labels else ""),
                      repr(s.value))
    except ValueError as e:
        fail("parser: %s" % e)
    # every sample line must belong to a TYPE'd family: the parser is
    # lenient about that, the exposition format is not
    for line in text.splitlines():
        if line.startswith("#"):
            if not re.match(r"^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* ",
                            line):
                fail("comment line %r" % line)
            continue
        name = re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if not name or name.group(0) not in seen:
            fail("sample outside a family: %r" % line)


def main():
    if len(sys.argv) < 3:
        fail("usage: monitor.py json|nagios|prom FILE [RC]")
    kind, path = sys.argv[1], sys.argv[2]
    if kind == "json":
        check_json(path)
    elif kind == "nagios":
        check_nagios(path, int(sys.argv[3]))
    elif kind == "prom":
        check_prom(path)
    else:
        fail("unknown kind %s" % kind)


main()
