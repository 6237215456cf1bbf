# manifest.sh: what an installer created, recorded so that its
# uninstaller (scripts/uninstall) removes exactly that and no more.
# Sourced by scripts/install and jail/install (POSIX sh), after
# jail/spooldir.sh (mf_spool uses its spool_dir).
#
# MF_ROOT is the root everything goes under (DESTDIR or a jail's path,
# empty for /); paths given to these functions and written to the
# manifest are as seen from inside that root. One record a line:
#   d PATH   a directory made here     f PATH   a file written
#   l PATH   a symlink made here       s PATH   a file that was there,
#                                               moved to PATH.ferry-orig
#   g NAME   a NAME: line added to $MF_ROOT/etc/group
#   G NAME   a group made with groupadd (Linux) or pw (FreeBSD)
# Paths with blanks are refused: the records are split on blanks.

MF_ROOT=${MF_ROOT:-}
MF_FORCE=${MF_FORCE:-0}
MF_TMP=$(mktemp "${TMPDIR:-/tmp}/ferry-manifest.XXXXXX")
MF_OLD=

mf_rec() { printf '%s %s\n' "$1" "$2" >> "$MF_TMP"; }

# mf_begin MANIFEST: start; a manifest left by an earlier install is
# kept, so an upgrade still knows what the first install made.
mf_begin() {
	MF_PATH=$1
	[ -z "$MF_ROOT" ] || mkdir -p "$MF_ROOT" || exit 1	# a new DESTDIR
	if [ -f "$MF_ROOT$MF_PATH" ]; then
		MF_OLD=$MF_ROOT$MF_PATH
		cat "$MF_OLD" >> "$MF_TMP"
	fi
}

mf_plain() {
	case $1 in
	/*) ;;
	*) echo "install: $1: not an absolute path" >&2; exit 1 ;;
	esac
	case $1 in
	*[[:space:]]*) echo "install: '$1': blanks in a path" >&2; exit 1 ;;
	esac
}

# mf_mkdirs PATH: make PATH and any missing parent (0755), recording
# each.
mf_mkdirs() {
	mf_plain "$1"
	_p=
	for _c in $(printf '%s\n' "$1" | tr '/' ' '); do
		_p=$_p/$_c
		[ -d "$MF_ROOT$_p" ] && continue
		mkdir "$MF_ROOT$_p" || exit 1
		chmod 0755 "$MF_ROOT$_p"
		mf_rec d "$_p"
	done
}

# mf_dir PATH MODE: mf_mkdirs, then PATH gets MODE. For root's own
# folders (/usr/local/sbin, /etc); a folder another group can write
# into is mf_spool's.
mf_dir() {
	mf_mkdirs "$1"
	chmod "$2" "$MF_ROOT$1"
}

# mf_spool PATH OWNER MODE: a folder of the spool, which group ferry
# writes: made, owned and moded by spool_dir, which follows no link
# (OWNER empty: left as it is).
mf_spool() {
	mf_mkdirs "$(dirname "$1")"
	mf_plain "$1"
	if [ -L "$MF_ROOT$1" ] || [ ! -d "$MF_ROOT$1" ]; then
		mf_rec d "$1"
	fi
	spool_dir "$MF_ROOT$1" "$2" "$3" || exit 1
}

# mf_file SRC PATH MODE: copy SRC to PATH (its folder must exist).
mf_file() {
	mf_plain "$2"
	[ -e "$MF_ROOT$2" ] || [ -L "$MF_ROOT$2" ] || mf_rec f "$2"
	rm -f "$MF_ROOT$2.tmp"
	cp "$1" "$MF_ROOT$2.tmp" && chmod "$3" "$MF_ROOT$2.tmp" &&
	    mv -f "$MF_ROOT$2.tmp" "$MF_ROOT$2" || exit 1
}

# mf_ours PATH: the manifest of an earlier install already holds PATH.
mf_ours() {
	grep -qx "[fl] $1" "$MF_TMP"
}

# mf_owned PATH: something that is not ferry has PATH: a file there, or
# (installing into the running system) a Debian package that ships it.
mf_owned() {
	mf_ours "$1" && return 1
	[ -e "$MF_ROOT$1" ] || [ -L "$MF_ROOT$1" ] && return 0
	[ -z "$MF_ROOT" ] && command -v dpkg >/dev/null 2>&1 &&
	    dpkg -S "$1" >/dev/null 2>&1 && return 0
	return 1
}

# mf_link TARGET PATH: a symlink PATH -> TARGET, unless another program
# owns PATH; with MF_FORCE=1 its file is moved to PATH.ferry-orig first
# (the uninstaller puts it back). Returns 1 when it left PATH alone.
mf_link() {
	mf_plain "$2"
	if mf_owned "$2"; then
		if [ "$MF_FORCE" != 1 ] || ! [ -e "$MF_ROOT$2" ] ||
		    [ -e "$MF_ROOT$2.ferry-orig" ]; then
			echo "install: $2 belongs to another program; left" \
			    "alone (FORCE=1 moves it to $2.ferry-orig)" >&2
			return 1
		fi
		mv "$MF_ROOT$2" "$MF_ROOT$2.ferry-orig" || exit 1
		mf_rec s "$2"
	fi
	mf_ours "$2" || mf_rec l "$2"
	rm -f "$MF_ROOT$2"
	ln -s "$1" "$MF_ROOT$2" || exit 1
}

# mf_end: write the manifest (itself included) to MF_PATH in the root
# and print what it lists.
mf_end() {
	mf_dir "$(dirname "$MF_PATH")" 0755
	mf_ours "$MF_PATH" || mf_rec f "$MF_PATH"
	awk '!seen[$0]++' "$MF_TMP" > "$MF_ROOT$MF_PATH" || exit 1
	chmod 0644 "$MF_ROOT$MF_PATH"
	rm -f "$MF_TMP"
	echo "created (listed in $MF_PATH):"
	sed 's/^/  /' "$MF_ROOT$MF_PATH"
}
