# spooldir.sh: make a directory of ferry's spool, as root, without
# following a link that ferry's group planted (issue 24). The spool is
# root:ferry 2770, so anything running with group ferry can rename
# failed/ and put a symlink (or a file) in its place; an installer that
# then ran `chown root:ferry`/`chmod 2770` on the path would hand group
# ferry whatever the link points at (/etc/cron.d: root). POSIX sh;
# sourced by scripts/install and jail/install (through manifest.sh), by
# the Debian postinst (/usr/share/ferry/spooldir.sh) and by the FreeBSD
# port's pkg-install.
#
# spool_dir DIR OWNER MODE: DIR a real directory (made if missing),
# then chown -h OWNER (skipped when OWNER is empty) and chmod MODE. A
# DIR that is a symlink or not a directory is moved, as it is, into a
# new root-only folder beside the spool's parent entry, named on
# stderr, and DIR made afresh. The owner and mode are set from inside
# DIR, after checking that the directory entered is DIR itself: a link
# swapped in after the check is caught there and nothing is changed.
# Returns 0, or 1 with one line on stderr.
spool_dir() {
	_sd_dir=$1 _sd_own=$2 _sd_mode=$3
	_sd_up=$(cd -P -- "$(dirname -- "$_sd_dir")" && pwd -P) || return 1
	_sd_want=${_sd_up%/}/$(basename -- "$_sd_dir")
	if [ -L "$_sd_dir" ] || { [ -e "$_sd_dir" ] && [ ! -d "$_sd_dir" ]; }
	then
		# aside into a folder only root can write: a name the group
		# could guess would let it put a link there too
		_sd_aside=$(mktemp -d "${_sd_up%/*}/ferry-moved.XXXXXX") ||
		    return 1
		mv -- "$_sd_dir" "$_sd_aside/" || return 1
		echo "ferry: $_sd_dir was not a directory; moved it to" \
		    "$_sd_aside/ (look at it, then delete it)" >&2
	fi
	[ -d "$_sd_dir" ] || mkdir -- "$_sd_dir" || return 1
	(
		cd -P -- "$_sd_dir" 2>/dev/null && [ "$(pwd -P)" = "$_sd_want" ] ||
		{
			echo "ferry: $_sd_dir changed while it was checked" \
			    "(a link?); left alone" >&2
			exit 1
		}
		# "." is the directory entered: no path left to swap
		if [ -n "$_sd_own" ]; then
			chown -h "$_sd_own" . || exit 1
		fi
		chmod "$_sd_mode" .
	)
}
