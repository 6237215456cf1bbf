# t_72_installers.sh: no installer follows a link that group ferry
# planted in the spool (issue 24 part A). The spool is root:ferry 2770,
# so group ferry can replace failed/ with a symlink; each installer is
# run as root with failed -> a root-owned stand-in folder, and the
# stand-in must come out as it went in (owner, mode, files), with
# failed/ a real folder of the spool again and the link moved aside.
# Run for real: scripts/install and scripts/uninstall into a DESTDIR,
# jail/install and jail/uninstall into a scratch root, the Debian
# postinst, prerm and postrm run directly by sh in a mount namespace
# whose /etc, /var and /usr are overlays on a scratch folder (groupadd,
# dpkg-statoverride and /etc/ferry.conf land there, not on this host),
# and the FreeBSD port's pkg-install (jail/spooldir.sh + pkg-install.in,
# as the port's Makefile puts them together) and pkg-deinstall with
# PKG_ROOTDIR, as pkg -r runs them.

I72=$E2E_WORK/i72
S=$I72/standin
mkdir -p "$I72"
getent group ferry-e2e >/dev/null || groupadd -r ferry-e2e || nok "groupadd"

# i72_standin: a fresh root-owned folder, 0755, with files that an
# installer must not touch (two have the names of ferry's caches)
i72_standin() {
	rm -rf "$S"
	mkdir -m 0755 "$S"
	echo keep > "$S/keep"
	echo cache > "$S/tls-session"
	echo cache > "$S/bounce-times"
	chown -R root:root "$S"
	I72_BEFORE=$(i72_state)
}
i72_state() { (cd "$S" && stat -c '%n %a %U %G %s' . *); }
# i72_same: the stand-in is as i72_standin left it
i72_same() {
	[ "$(i72_state)" = "$I72_BEFORE" ] && return 0
	echo "     stand-in changed:"
	i72_state | sed 's/^/     | /'
	return 1
}
# i72_plant DIR: DIR becomes a symlink to a fresh stand-in
i72_plant() {
	i72_standin
	rm -rf "$1"
	ln -s "$S" "$1"
}
# i72_real DIR MODE: DIR is a folder, no link, with MODE
i72_real() {
	[ ! -L "$1" ] && [ -d "$1" ] &&
	    [ "$(stat -c %a "$1")" = "$2" ] && return 0
	echo "     $1: $(stat -c '%F %a %U:%G' "$1" 2>&1)"
	return 1
}
# i72_aside ROOT: the link went into ROOT/ferry-moved.*/
i72_aside() { [ -L "$(echo "$1"/ferry-moved.*/failed)" ]; }

# ---- scripts/install and scripts/uninstall (make install)
D=$I72/dest
sp=$D/var/spool/ferry
i72_install() {
	(cd "$FERRY_ROOT" && DESTDIR=$D PREFIX=/usr FERRY_GROUP=ferry-e2e \
	    scripts/install) > "$I72/install.out" 2>&1
}
i72_install
check "install: a first install" eval '[ $? -eq 0 ] && i72_real "$sp/failed" 2770'
i72_plant "$sp/failed"
i72_install
check "install over failed -> stand-in: exit 0" eval '[ $? -eq 0 ]'
check "install over failed -> stand-in: stand-in untouched" i72_same
check "install over failed -> stand-in: failed/ a real 2770 folder" \
    i72_real "$sp/failed" 2770
check "install over failed -> stand-in: group ferry-e2e" \
    eval '[ "$(stat -c %G "$sp/failed")" = ferry-e2e ]'
check "install over failed -> stand-in: the link moved aside, named" \
    eval 'i72_aside "$D/var/spool" && grep -q "moved it to" "$I72/install.out"'
rm -rf "$sp/failed"
echo x > "$sp/failed"
i72_install
check "install over failed as a file: failed/ a real folder" \
    eval '[ $? -eq 0 ] && i72_real "$sp/failed" 2770'
i72_plant "$sp/failed"
(cd "$FERRY_ROOT" && DESTDIR=$D PREFIX=/usr scripts/uninstall) \
    > "$I72/uninstall.out" 2>&1
check "uninstall with failed -> stand-in: stand-in untouched" i72_same
check "uninstall with failed -> stand-in: says it kept the link" \
    grep -q "kept .*failed: a link" "$I72/uninstall.out"

# ---- jail/install and jail/uninstall into a scratch root
J=$I72/jail
mkdir -p "$J/etc"
cp /etc/group "$J/etc/group"
: > "$J/etc/os-release"
i72_jail() {
	(cd "$FERRY_ROOT" && jail/install --flush none "$J") \
	    > "$I72/jail.out" 2>&1
}
i72_jail
check "jail/install: a first install" \
    eval '[ $? -eq 0 ] && i72_real "$J/var/spool/ferry/failed" 2770'
i72_plant "$J/var/spool/ferry/failed"
i72_jail
check "jail/install over failed -> stand-in: exit 0" eval '[ $? -eq 0 ]'
check "jail/install over failed -> stand-in: stand-in untouched" i72_same
check "jail/install over failed -> stand-in: failed/ a real folder" \
    i72_real "$J/var/spool/ferry/failed" 2770
i72_plant "$J/var/spool/ferry/failed"
(cd "$FERRY_ROOT" && jail/uninstall "$J") > "$I72/junin.out" 2>&1
check "jail/uninstall with failed -> stand-in: stand-in untouched" i72_same

# ---- the Debian maintainer scripts and the FreeBSD port's scripts,
# in a namespace whose /etc, /var and /usr write to $I72/ov
i72_standin
rm -rf "$I72/ov"
mkdir -p "$I72/ov"
cat "$FERRY_ROOT/jail/spooldir.sh" \
    "$FERRY_ROOT/jail/freebsd/ports/mail/ferry/files/pkg-install.in" \
    > "$I72/pkg-install" 2>/dev/null
P=$I72/port
mkdir -p "$P/var/spool/ferry" "$P/etc"
echo '#ftp	stream	tcp	nowait	root	/usr/libexec/ftpd	ftpd -l' \
    > "$P/etc/inetd.conf"
# each step prints "NAME rc STATE-OF-failed"
S=$S P=$P FR=$FERRY_ROOT unshare -m sh -c '
	W=$0
	for d in /etc /var /usr; do
		mkdir -p "$W/up$d" "$W/wk$d"
		mount -t overlay overlay \
		    -o "lowerdir=$d,upperdir=$W/up$d,workdir=$W/wk$d" "$d" ||
		    exit 1
	done
	mkdir -p /usr/share/ferry /var/spool/ferry
	cp "$FR/scripts/ferry.conf.sample" /usr/share/ferry/
	cp "$FR/jail/spooldir.sh" /usr/share/ferry/ 2>/dev/null
	st() { echo "$1 $2 $(stat -c "%F %a %G" "$3" 2>&1)"; }
	rm -rf /var/spool/ferry/failed
	ln -s "$S" /var/spool/ferry/failed
	sh "$FR/jail/debian/postinst" configure; st postinst $? \
	    /var/spool/ferry/failed
	rm -rf /var/spool/ferry/failed
	ln -s "$S" /var/spool/ferry/failed
	sh "$FR/jail/debian/prerm" remove; st prerm $? /var/spool/ferry/failed
	sh "$FR/jail/debian/postrm" remove; st postrm-remove $? \
	    /var/spool/ferry/failed
	ln -s "$S" "$P/var/spool/ferry/failed"
	PKG_ROOTDIR=$P sh "$W/../pkg-install" ferry POST-INSTALL
	st pkg-install $? "$P/var/spool/ferry/failed"
	PKG_ROOTDIR=$P sh "$W/../pkg-install" ferry POST-INSTALL
	cp "$P/etc/inetd.conf" "$W/../inetd.installed"
	rm -rf "$P/var/spool/ferry/failed"
	ln -s "$S" "$P/var/spool/ferry/failed"
	PKG_ROOTDIR=$P sh \
	    "$FR/jail/freebsd/ports/mail/ferry/pkg-deinstall" ferry \
	    POST-DEINSTALL
	st pkg-deinstall $? "$P/var/spool/ferry/failed"
	sh "$FR/jail/debian/postrm" purge; st postrm-purge $? \
	    /var/spool/ferry/failed
' "$I72/ov" > "$I72/ns.out" 2> "$I72/ns.err"
sed 's/^/     | /' "$I72/ns.out"
check "postinst over failed -> stand-in: failed/ a real 2770 folder" \
    grep -qx "postinst 0 directory 2770 ferry" "$I72/ns.out"
check "prerm, postrm remove with failed -> stand-in: exit 0" eval \
    'grep -q "^prerm 0 " "$I72/ns.out" &&
    grep -q "^postrm-remove 0 " "$I72/ns.out"'
check "port pkg-install over failed -> stand-in: a real 2770 folder" \
    grep -qx "pkg-install 0 directory 2770 ferry" "$I72/ns.out"
check "port pkg-deinstall, postrm purge with failed -> stand-in: exit 0" \
    eval 'grep -q "^pkg-deinstall 0 symbolic link" "$I72/ns.out" &&
    grep -q "^postrm-purge 0 " "$I72/ns.out"'
check "port pkg-install: one inetd.conf line for the socket, kept" eval \
    '[ "$(grep -c "ferry-submit.sock	stream	unix	nowait	root" \
    "$I72/inetd.installed")" -eq 1 ] && grep -q "^#ftp" "$P/etc/inetd.conf"'
check "port pkg-deinstall: the line gone" \
    eval '! grep -q ferry-submit "$P/etc/inetd.conf"'
check "Debian and port scripts: stand-in untouched" i72_same
check "Debian and port scripts: the links moved aside" \
    eval 'i72_aside "$I72/ov/up/var/spool" && i72_aside "$P/var/spool"'
