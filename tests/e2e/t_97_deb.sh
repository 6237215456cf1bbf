# t_97_deb.sh: the Debian package (make deb) in a real Debian 12.
# lintian on both packages and a second build that must give the same
# bytes; then a minimal bookworm from debootstrap with exim4, cron and
# bsd-mailx installed, as a stock image has them, run by chroot (the
# host's network, so the test Postfix on loopback is reachable):
# `apt install ./ferry_*.deb` replaces exim4; mail(1) and a cron job's
# output reach the test smart host through ferry; remove, reinstall and
# an upgrade keep queued mail; purge leaves only a spool with mail in it.
# The debootstrapped tree is cached as a tarball under build/debroot/,
# named by the suite and package list; without it debootstrap runs
# (about 8 minutes), and it runs against the mirror apt uses here.

DEB_VERSION=$(sed -n 's/^VERSION[ \t]*=[ \t]*//p' "$FERRY_ROOT/Makefile")
DEB_AMD=$FERRY_ROOT/ferry_${DEB_VERSION}_amd64.deb
DEB_ARM=$FERRY_ROOT/ferry_${DEB_VERSION}_arm64.deb
DEB_BUILD=${BUILD:-$FERRY_ROOT/build}/debroot
DEB_SUITE=bookworm
DEB_PKGS=exim4,cron,bsd-mailx
DEB_TREE=$DEB_BUILD/tree
DEB_T0=$SECONDS

check "deb: make deb built both packages" \
    test -f "$DEB_AMD" -a -f "$DEB_ARM"
check "deb: lintian, debootstrap installed" \
    "$FERRY_ROOT/scripts/need" lintian debootstrap

# lintian_clean DEB: no error and no warning (overrides have reasons).
lintian_clean() {
	local out=$E2E_WORK/lintian.${1##*/}
	lintian --fail-on error,warning "$1" > "$out" 2>&1
	local rc=$?
	grep -v 'root privileges' "$out" | sed 's/^/     | /'
	[ "$rc" -eq 0 ] && ! grep -q '^[EW]: ' "$out"
}
check "deb: lintian amd64: no errors, no warnings" lintian_clean "$DEB_AMD"
check "deb: lintian arm64: no errors, no warnings" lintian_clean "$DEB_ARM"

# Same bytes again from another folder, umask and time zone.
mkdir -p "$E2E_WORK/deb1" "$E2E_WORK/deb2"
(umask 022 && cd / && "$FERRY_ROOT/scripts/deb" "$FERRY" amd64 \
    "$E2E_WORK/deb1" > /dev/null)
(umask 077 && cd "$E2E_WORK" && TZ=Pacific/Chatham \
    "$FERRY_ROOT/scripts/deb" "$FERRY" amd64 "$E2E_WORK/deb2" > /dev/null)
check "deb: reproducible (two builds, same bytes)" eval \
    'cmp "$E2E_WORK"/deb1/*.deb "$E2E_WORK"/deb2/*.deb'
# The "previous build" for the upgrade: the same tree, an older version.
DEB_OLD_VERSION=$DEB_VERSION~e2e0
VERSION=$DEB_OLD_VERSION "$FERRY_ROOT/scripts/deb" "$FERRY" amd64 \
    "$E2E_WORK/deb-old" > /dev/null
DEB_OLD=$E2E_WORK/deb-old/ferry_${DEB_OLD_VERSION}_amd64.deb
check "deb: an older version built for the upgrade" test -f "$DEB_OLD"

# --- the Debian 12 tree ---------------------------------------------
# The mirror and suite apt already uses here, asked of apt itself.
deb_mirror() {
	apt-get indextargets --no-release-info --format '$(SITE)' \
	    "Release: $DEB_SUITE" 'Identifier: Packages' 'Component: main' \
	    'Target-Of: deb' 2>/dev/null | head -1
}
deb_base() {
	local mirror new
	mirror=$(deb_mirror)
	if [ -z "$mirror" ]; then
		echo "     no $DEB_SUITE mirror in apt's sources"
		return 1
	fi
	new=$DEB_BUILD/new
	rm -rf "$new"
	echo "     debootstrap $DEB_SUITE from $mirror (not cached)"
	debootstrap --variant=minbase --include="$DEB_PKGS" "$DEB_SUITE" \
	    "$new" "$mirror" > "$DEB_BUILD/debootstrap.log" 2>&1 || {
		tail -5 "$DEB_BUILD/debootstrap.log" | sed 's/^/     | /'
		return 1
	}
	rm -f "$new"/var/cache/apt/archives/*.deb
	tar -C "$new" --numeric-owner -cf "$DEB_CACHE.tmp" . &&
	    mv "$DEB_CACHE.tmp" "$DEB_CACHE" && rm -rf "$new"
}
# Nothing may still be mounted in the tree when it is deleted.
deb_unmounted() { ! grep -qF " $DEB_TREE/" /proc/self/mounts; }

mkdir -p "$DEB_BUILD"
DEB_CACHE=$DEB_BUILD/$DEB_SUITE-$(printf '%s %s' "$DEB_SUITE" "$DEB_PKGS" |
    cksum | cut -d' ' -f1).tar
if [ -f "$DEB_CACHE" ]; then
	check "deb: base tree cached ($DEB_CACHE)" true
else
	check "deb: debootstrap $DEB_SUITE with $DEB_PKGS" deb_base
fi
check "deb: tree unpacked fresh" eval 'deb_unmounted &&
    rm -rf "$DEB_TREE" && mkdir -p "$DEB_TREE" &&
    tar -C "$DEB_TREE" --numeric-owner -xpf "$DEB_CACHE"'
echo "     base tree ready after $((SECONDS - DEB_T0)) s"
R=$DEB_TREE
# Nothing the packages install may start a daemon in the tree.
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' \
    > "$R/etc/hosts"
cp "$DEB_AMD" "$DEB_OLD" "$R/tmp/"

# inroot CMD...: run CMD in the tree, with /proc, in a mount namespace
# of its own (nothing stays mounted); output in $E2E_WORK/inroot.N.
DEB_N=0
inroot() {
	DEB_N=$((DEB_N + 1))
	DEB_OUT=$E2E_WORK/inroot.$DEB_N
	unshare --mount --propagation private sh -c \
	    'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$R" \
	    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
	    DEBIAN_FRONTEND=noninteractive "$@" > "$DEB_OUT" 2>&1
}
# show: the end of the last inroot output, after a failure
show() { tail -8 "$DEB_OUT" | sed "s/$SH_PASS/(password)/g; s/^/     | /"; return 1; }
apt_in() {
	inroot apt-get -y -o Dpkg::Use-Pty=0 "$@" || show
}
# installed PKG: dpkg says PKG is installed in the tree
installed() {
	[ "$(chroot "$R" dpkg-query -W -f='${db:Status-Status}' "$1" \
	    2>/dev/null)" = installed ]
}
# mode PATH: "MODE USER:GROUP" of PATH in the tree, by the tree's names
mode() {
	chroot "$R" stat -c '%a %U:%G' "$1" 2>/dev/null
}

check "deb: exim4 is the MTA of the stock tree" eval \
    '[ "$(readlink -f "$R/usr/sbin/sendmail")" = "$R/usr/sbin/exim4" ] &&
    installed exim4-daemon-light'

check "deb: apt install ./ferry_*.deb replaces exim4" \
    apt_in install "./tmp/${DEB_AMD##*/}"
cp "$DEB_OUT" "$E2E_WORK/deb-install.log"
check "deb: exim4-daemon-light removed, ferry installed" eval \
    '! installed exim4-daemon-light && installed ferry'
check "deb: sendmail, /usr/lib/sendmail, mailq, newaliases are ferry" eval \
    'for p in usr/sbin/sendmail usr/lib/sendmail usr/bin/mailq \
    usr/bin/newaliases; do
	[ "$(readlink -f "$R/$p")" = "$R/usr/sbin/ferry" ] || exit 1
    done'
check "deb: ferry root:ferry 2755 by dpkg-statoverride" eval \
    '[ "$(mode /usr/sbin/ferry)" = "2755 root:ferry" ] &&
    chroot "$R" dpkg-statoverride --list /usr/sbin/ferry |
    grep -qx "root ferry 2755 /usr/sbin/ferry"'
check "deb: spool and failed/ root:ferry 2770" eval \
    '[ "$(mode /var/spool/ferry)" = "2770 root:ferry" ] &&
    [ "$(mode /var/spool/ferry/failed)" = "2770 root:ferry" ]'
check "deb: /etc/ferry.conf made from the sample, root:ferry 0640" eval \
    '[ "$(mode /etc/ferry.conf)" = "640 root:ferry" ] &&
    cmp -s "$R/etc/ferry.conf" "$R/usr/share/ferry/ferry.conf.sample"'
check "deb: man pages, cron line, flush timer enabled" eval \
    '[ -f "$R/usr/share/man/man8/ferry.8.gz" ] &&
    [ -f "$R/usr/share/man/man5/ferry.conf.5.gz" ] &&
    grep -q "/usr/sbin/ferry -q" "$R/etc/cron.d/ferry" &&
    grep -qx "ExecStart=/usr/sbin/ferry -q" \
	"$R/lib/systemd/system/ferry-flush.service" &&
    [ -L "$R/etc/systemd/system/timers.target.wants/ferry-flush.timer" ]'
check "deb: the submission socket (issue 24) shipped and enabled" eval \
    'grep -qx "ExecStart=/usr/sbin/ferry -bs" \
	"$R/lib/systemd/system/ferry-submit@.service" &&
    [ -L "$R/etc/systemd/system/sockets.target.wants/ferry-submit.socket" ]'

# The site's config, as an image builder writes it: the password from a
# "secret store" (here a script reading a root:ferry 0640 file). For a
# user ferry is setgid and so is the command it runs; sh -p keeps that
# group (dash and bash drop it otherwise, and cat is then refused).
deb_conf_files() {
	cp "$SH_CA" "$R/etc/ferry-test-ca.pem"
	printf '%s\n' "$SH_PASS" > "$R/etc/ferry-test-secret"
	printf '#!/bin/sh -p\nexec cat /etc/ferry-test-secret\n' \
	    > "$R/usr/local/bin/test-secret"
	chmod 755 "$R/usr/local/bin/test-secret"
	printf '%s\n' "smarthost localhost" "port $SH_PORT_SMTPS" \
	    "tls implicit" "tls_ca_file /etc/ferry-test-ca.pem" \
	    "user $SH_USER" "password_command /usr/local/bin/test-secret" \
	    "timeout 20" > "$R/etc/ferry.conf"
}
deb_conf() {
	deb_conf_files
	chroot "$R" chown root:ferry /etc/ferry.conf /etc/ferry-test-secret &&
	    chmod 640 "$R/etc/ferry.conf" "$R/etc/ferry-test-secret"
}
check "deb: site config written (CA, password_command)" deb_conf
chroot "$R" useradd -m -s /bin/sh cronuser 2>/dev/null

# mail(1), from bsd-mailx, as root and as a user (the setgid path)
inroot mail -s "deb mailx root" \
    "debmail@$SH_DOMAIN" \
    <<< "sent with mail(1) by root"
rc=$?
check "deb: mail(1) as root: exit 0" eval '[ "$rc" -eq 0 ] || show'
check "deb: mail(1) as root: landed" landed debmail 1
inroot runuser -u cronuser -- \
    mail -s "deb mailx user" "debmail@$SH_DOMAIN" \
    <<< "sent with mail(1) by cronuser"
rc=$?
check "deb: mail(1) as a user: exit 0" eval '[ "$rc" -eq 0 ] || show'
check "deb: mail(1) as a user: landed" eval 'landed debmail 2 || show'

# cron: a user's @reboot job whose output is mailed, and ferry's own
# cron line (@reboot, no systemd here) flushing what -odq queued.
inroot runuser -u cronuser -- \
    /usr/sbin/sendmail -odq "debflush@$SH_DOMAIN" \
    <<< "queued before cron"
check "deb: sendmail -odq as a user queues" eval \
    '[ "$(ls "$R"/var/spool/ferry/q* 2>/dev/null | wc -l)" -eq 1 ]'
printf '%s\n' "MAILTO=debcron@$SH_DOMAIN" \
    '@reboot cronuser echo "output of a cron job"' > "$R/etc/cron.d/e2e"
rm -f "$R/run/crond.reboot" "$R/run/crond.pid"
# In a PID namespace of its own: cron and all it starts die with it.
unshare --mount --pid --fork --kill-child --mount-proc="$R/proc" \
    chroot "$R" /usr/sbin/cron -f > "$E2E_WORK/cron.out" 2>&1 &
DEB_CRON=$!
check "deb: a cron job's output reaches the smart host" landed debcron 1
check "deb: the cron mail is the job's output" \
    grep -q "output of a cron job" "$LANDED"
check "deb: ferry's @reboot cron line flushed the queue" landed debflush 1
# cron is PID 1 there and ignores SIGTERM; unshare passes SIGKILL on
{ kill -KILL "$DEB_CRON" && wait "$DEB_CRON"; } 2>/dev/null
rm -f "$R/etc/cron.d/e2e"

# The processes whose root is the tree: none may be left.
deb_procs() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$R" ] &&
		    echo "${p#/proc/}"
	done
}
check "deb: cron stopped, nothing runs in the tree" \
    eval '[ -z "$(deb_procs)" ]'

# remove keeps queued mail and the config; reinstall finds both
deb_queue() {	# deb_queue LOCALPART: one message queued with -odq
	inroot /usr/sbin/sendmail -odq \
	    "$1@$SH_DOMAIN" \
	    <<< "kept across $1"
}
deb_queued() { ls "$R"/var/spool/ferry/q* 2>/dev/null | wc -l; }
deb_queue debremove
check "deb: apt remove ferry" apt_in remove ferry
check "deb: remove kept the queued message, config and group" eval \
    '[ "$(deb_queued)" -eq 1 ] && grep -q "^smarthost localhost" \
    "$R/etc/ferry.conf" && grep -q "^ferry:" "$R/etc/group" &&
    [ ! -e "$R/usr/sbin/ferry" ]'
check "deb: reinstall" apt_in install "./tmp/${DEB_AMD##*/}"
check "deb: reinstall kept the config and the mail; modes again" eval \
    '[ "$(deb_queued)" -eq 1 ] && grep -q "^smarthost localhost" \
    "$R/etc/ferry.conf" && [ "$(mode /usr/sbin/ferry)" = "2755 root:ferry" ]'
inroot mailq
check "deb: mailq lists it" grep -q "debremove@$SH_DOMAIN" "$DEB_OUT"
inroot /usr/sbin/sendmail -q
check "deb: sendmail -q sends what remove kept" landed debremove 1

# upgrade from the previous build: install the older one, queue, then
# the current package over it
check "deb: install the previous build (downgrade)" \
    apt_in install --allow-downgrades "./tmp/${DEB_OLD##*/}"
deb_queue debupgrade
check "deb: upgrade from $DEB_OLD_VERSION to $DEB_VERSION" \
    apt_in install "./tmp/${DEB_AMD##*/}"
check "deb: upgrade kept mail, config, mode and timer" eval \
    '[ "$(deb_queued)" -eq 1 ] && grep -q "^smarthost localhost" \
    "$R/etc/ferry.conf" && [ "$(mode /usr/sbin/ferry)" = "2755 root:ferry" ] &&
    [ -L "$R/etc/systemd/system/timers.target.wants/ferry-flush.timer" ] &&
    [ "$(chroot "$R" dpkg-query -W -f="\${Version}" ferry)" = "$DEB_VERSION" ]'
inroot /usr/sbin/sendmail -q
check "deb: the upgraded ferry sends it" landed debupgrade 1

# deb_leftovers: paths in the tree that name ferry, other than the test's
# own files and the package cache.
deb_leftovers() {
	(cd "$R" && find . -path ./proc -prune -o -path ./tmp -prune -o \
	    -path ./var/cache -prune -o -path ./var/log -prune -o \
	    -name '*ferry*' -print | grep -v '^\./etc/ferry-test-') || true
	grep -s '^ferry:' "$R/etc/group" "$R/etc/gshadow"
	grep -s 'ferry' "$R/var/lib/dpkg/statoverride"
}
deb_queue debpurge
check "deb: apt purge ferry with mail queued" apt_in purge ferry
check "deb: purge says it kept the spool" \
    grep -q "kept /var/spool/ferry" "$DEB_OUT"
# what purge left, but the spool's contents and the group's two lines
deb_purged() {
	deb_leftovers | grep -v -e '^\./var/spool/ferry/' \
	    -e "^$R/etc/g\(roup\|shadow\):ferry:"
}
check "deb: purge left only the spool with its mail (and its group)" eval \
    '[ "$(deb_queued)" -eq 1 ] && [ "$(deb_purged)" = ./var/spool/ferry ] ||
    { deb_leftovers | sed "s/^/     | /"; false; }'
# reinstalled, it sends that mail; purged with an empty spool: nothing
check "deb: install again after purge" apt_in install "./tmp/${DEB_AMD##*/}"
deb_conf
inroot /usr/sbin/sendmail -q
check "deb: the mail purge kept is sent" landed debpurge 1
check "deb: apt purge ferry with an empty spool" apt_in purge ferry
check "deb: purge left nothing of ferry" eval \
    '[ -z "$(deb_leftovers)" ] || { deb_leftovers | sed "s/^/     | /"; false; }'

# cloud-init's order: the config is written before the package (and its
# group) exists; the install keeps it, then it is given to the group.
deb_conf_early() {
	deb_conf_files
	chmod 640 "$R/etc/ferry.conf" "$R/etc/ferry-test-secret" &&
	    cp -p "$R/etc/ferry.conf" \
	    "$E2E_WORK/ferry.conf.early"
}
check "deb: a config written before the install" deb_conf_early
check "deb: install with that config present" \
    apt_in install "./tmp/${DEB_AMD##*/}"
check "deb: the install kept it" \
    cmp -s "$R/etc/ferry.conf" "$E2E_WORK/ferry.conf.early"
chroot "$R" chgrp ferry /etc/ferry.conf /etc/ferry-test-secret
# (sendmail: apt took bsd-mailx away with ferry, as it needs an MTA)
inroot runuser -u cronuser -- /usr/sbin/sendmail "debearly@$SH_DOMAIN" \
    <<< "sent after a cloud-init style install"
check "deb: sendmail as a user with it: landed" eval 'landed debearly 1 || show'
check "deb: apt purge ferry again" apt_in purge ferry
check "deb: nothing of ferry left again" eval \
    '[ -z "$(deb_leftovers)" ] || { deb_leftovers | sed "s/^/     | /"; false; }'

check "deb: no process left in the tree, nothing mounted" eval \
    '[ -z "$(deb_procs)" ] && deb_unmounted'
echo "     t_97 took $((SECONDS - DEB_T0)) s"
