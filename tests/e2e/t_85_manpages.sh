# t_85_manpages.sh: ferry.8 and ferry.conf.5 are clean mdoc, and they
# document every flag in cli.c's getopt string and every key in
# conf.c's keys[] table, so a new flag or key without docs fails here.

"$FERRY_ROOT/scripts/need" mandoc >/dev/null 2>&1 || nok "mandoc"

man8=$FERRY_ROOT/src/ferry.8
man5=$FERRY_ROOT/src/ferry.conf.5

# lint_clean PAGE: mandoc -Tlint -Wwarning prints nothing.
lint_clean() {
	local out
	out=$(mandoc -Tlint -Wwarning "$1" 2>&1)
	[ -z "$out" ] || { printf '%s\n' "$out" | head -5; return 1; }
}

check "ferry.8: mandoc -Tlint -Wwarning is clean" lint_clean "$man8"
check "ferry.conf.5: mandoc -Tlint -Wwarning is clean" lint_clean "$man5"

# every getopt letter has an ".It Fl X..." entry (-b as .It Fl bp ...)
optstring=$(sed -n 's/.*getopt(argc, argv, "\([^"]*\)").*/\1/p' \
    "$FERRY_ROOT/src/cli.c")
check "cli.c: getopt string found" test -n "$optstring"
letters=$(printf '%s' "$optstring" | tr -d ':' | fold -w1)
missing=
for l in $letters; do
	grep -q "^\.It Fl $l" "$man8" || missing="$missing -$l"
done
check "ferry.8: every flag documented${missing:+ (missing:$missing)}" \
    test -z "$missing"

# every key in keys[] has an ".It Cm key" entry
keys=$(sed -n '/^static const struct key keys\[\] = {/,/^};/p' \
    "$FERRY_ROOT/src/conf.c" | sed -n 's/^[[:space:]]*{ "\([a-z_]*\)",.*/\1/p')
check "conf.c: keys[] table found" test -n "$keys"
missing=
for k in $keys; do
	grep -Eq "^\.It Cm $k( |$)" "$man5" || missing="$missing $k"
done
check "ferry.conf.5: every key documented${missing:+ (missing:$missing)}" \
    test -z "$missing"
