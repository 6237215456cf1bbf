# /etc/cron.d/ferry: flush the ferry mail queue at boot, then every
# 5 minutes, where systemd does not run: there ferry-flush.timer does it.
@reboot		root	[ -d /run/systemd/system ] || /usr/sbin/ferry -q
*/5 * * * *	root	[ -d /run/systemd/system ] || /usr/sbin/ferry -q
