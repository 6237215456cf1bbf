# t_96_aarch64.sh: the static arm64 build (make ARCH=aarch64) under
# qemu-user delivers through the test Postfix, like ./ferry does.
# `make check` builds ferry-aarch64 first; without it this fails.

A64_BIN=$FERRY_ROOT/ferry-aarch64
# e_machine, bytes 18-19 of the ELF header: 183 is EM_AARCH64.
a64_machine() { od -An -tu2 -j18 -N2 "$A64_BIN" | tr -d ' '; }
check "aarch64: ferry-aarch64 is built" test -x "$A64_BIN"
check "aarch64: it is an arm64 ELF" eval '[ "$(a64_machine)" = 183 ]'
check "aarch64: qemu-aarch64-static is there" \
    "$FERRY_ROOT/scripts/need" qemu-user-static

conf=$(hostconf a64 starttls "$SH_PORT_SUBMISSION" "auth plain")
msg=$(mkmsg a64 "a64@$SH_DOMAIN" "sent by the arm64 build")
FERRY_BIN=$A64_BIN FERRY_WRAP=qemu-aarch64-static \
    ferry_run "$conf" -f "sender@$SH_DOMAIN" "a64@$SH_DOMAIN" < "$msg"
check "aarch64: exits 0" expect_rc 0
check "aarch64: landed" landed a64 1
check "aarch64: body intact" same_body "$msg" "$LANDED"
check "aarch64: spool empty" eval '[ "$(queued "$conf")" -eq 0 ]'
