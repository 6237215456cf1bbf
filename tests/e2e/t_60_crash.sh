# t_60_crash.sh: kill -9 ferry at every write, sync, rename, read...
# of an enqueue and of a delivery (strace injects SIGKILL at the Nth
# call of each). Afterwards every accepted message is in the queue or
# delivered, whole; a delivered one is never partial. Duplicates can
# only come from a kill after the final dot was sent and before the
# entry was removed; they are counted and reported.

"$FERRY_ROOT/scripts/need" strace >/dev/null || nok "strace missing"
cconf=$(hostconf crash implicit "$SH_PORT_SMTPS")
cspool=$E2E_WORK/spool-crash
crash_points=0
crash_dups=0
crash_bad=0
crash_where=""

# calls SYSCALLS ARGS...: how many of each syscall one run makes.
calls() {
	local sc=$1 t=$E2E_WORK/strace.out
	shift
	FERRY_WRAP="strace -qq -o $t -e trace=$sc" ferry_run "$cconf" "$@"
	awk -F'(' '{ sub(/^[0-9]+ +/, "", $1); n[$1]++ }
	    END { for (s in n) print s, n[s] }' "$t"
}

crash_msg() {
	{
		printf 'Subject: %s\n\n' "$1"
		seq 1 400 | sed "s/^/$1 line /"
	} > "$E2E_WORK/crash.eml"
}

# landed_with TAG: messages delivered whose body is that of TAG.
landed_with() {
	local f n=0
	for f in $(smarthost_mail_files crash); do
		grep -q "^$1 line 1$" "$f" || continue
		same_body "$E2E_WORK/crash.eml" "$f" >/dev/null ||
		    crash_bad=$((crash_bad + 1))
		n=$((n + 1))
	done
	echo "$n"
}

enq_calls=read,readv,write,writev,openat,fsync,renameat,rename,unlinkat,flock,close
crash_msg probe
calls "$enq_calls" -odq -f "s@$SH_DOMAIN" "crash@$SH_DOMAIN" \
    < "$E2E_WORK/crash.eml" > "$E2E_WORK/enq.calls"
ferry_run "$cconf" -q < /dev/null
while read -r sc n; do
	for i in $(seq 1 "$n"); do
		tag=enq-$sc-$i
		crash_msg "$tag"
		FERRY_WRAP="strace -qq -o /dev/null -e trace=$sc \
		    -e inject=$sc:signal=KILL:when=$i" ferry_run "$cconf" \
		    -odq -f "s@$SH_DOMAIN" "crash@$SH_DOMAIN" \
		    < "$E2E_WORK/crash.eml"
		crash_points=$((crash_points + 1))
		rc=$RC
		had=$(queued "$cconf")
		ferry_run "$cconf" -q < /dev/null
		sleep 0.3
		got=$(landed_with "$tag")
		# acknowledged (exit 0) means it must arrive; else 0 or 1
		if { [ "$rc" -eq 0 ] || [ "$had" -gt 0 ]; } && [ "$got" -ne 1 ]
		then
			nok "enqueue killed at $sc #$i: $got delivered"
		elif [ "$got" -gt 1 ]; then
			nok "enqueue killed at $sc #$i: $got copies"
		fi
	done
done < "$E2E_WORK/enq.calls"
ferry_run "$cconf" -q < /dev/null

del_calls=openat,connect,read,write,writev,fsync,renameat,rename,unlinkat,close
crash_msg probe2
ferry_run "$cconf" -odq -f "s@$SH_DOMAIN" "crash@$SH_DOMAIN" < "$E2E_WORK/crash.eml"
calls "$del_calls" -q < /dev/null > "$E2E_WORK/del.calls"
while read -r sc n; do
	for i in $(seq 1 "$n"); do
		tag=del-$sc-$i
		crash_msg "$tag"
		ferry_run "$cconf" -odq -f "s@$SH_DOMAIN" "crash@$SH_DOMAIN" \
		    < "$E2E_WORK/crash.eml"
		FERRY_WRAP="strace -qq -o /dev/null -e trace=$sc \
		    -e inject=$sc:signal=KILL:when=$i" ferry_run "$cconf" -q \
		    < /dev/null
		crash_points=$((crash_points + 1))
		ferry_run "$cconf" -q < /dev/null
		sleep 0.3
		got=$(landed_with "$tag")
		if [ "$got" -lt 1 ]; then
			nok "delivery killed at $sc #$i: lost"
		elif [ "$got" -gt 1 ]; then
			crash_dups=$((crash_dups + 1))
			crash_where="$crash_where $sc#$i"
		fi
	done
done < "$E2E_WORK/del.calls"

check "crash: $crash_points kill points, none lost" eval \
    '[ "$crash_points" -gt 50 ] && [ "$(queued "$cconf")" -eq 0 ]'
check "crash: no partial message ever delivered" eval '[ "$crash_bad" -eq 0 ]'
echo "     crash: $crash_points kill points, $crash_dups duplicate deliveries" \
    "(killed at:${crash_where:- none})"
echo "crash points: $crash_points, duplicates: $crash_dups" > "$E2E_WORK/crash.txt"
