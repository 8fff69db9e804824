#!/bin/sh
# A throwaway PostgreSQL for the tests: its own initdb in a temporary
# directory, owned by an unprivileged user (PostgreSQL refuses to run as
# root: as root it runs as the `postgres` user the Debian package makes),
# listening only on a unix socket in that directory.  Nothing is shared
# with a PostgreSQL the machine may run.
#
#   pg.sh start [PORT]        initdb + start; prints shell assignments:
#                             PG_DIR=... PG_URI=... (eval them); the URI
#                             names database muster, role muster
#   pg.sh standby PG_DIR PORT a streaming standby of PG_DIR's server
#                             (pg_basebackup), synchronous: a COMMIT
#                             returns once the standby has the WAL;
#                             prints PG_SDIR=... PG_SURI=...
#   pg.sh promote DIR         pg_ctl promote
#   pg.sh kill DIR            SIGKILL the postmaster (a crash)
#   pg.sh restart DIR         start DIR's server again (after a kill)
#   pg.sh stop DIR            stop (immediate) and remove DIR
#   pg.sh psql DIR SQL        run SQL as the superuser, unaligned output
#
# PORT only names the socket (.s.PGSQL.PORT); default 5432.
set -eu

bindir=$(pg_config --bindir 2>/dev/null || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V |
	    tail -n 1)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
	echo "pg.sh: PostgreSQL server programs not found (apt-get install" \
	    "postgresql)" >&2
	exit 69
fi

# as CMD...: runs CMD as the owner of the clusters.
if [ "$(id -u)" -eq 0 ]; then
	owner=postgres
	as() { runuser -u "$owner" -- "$@"; }
else
	owner=$(id -un)
	as() { "$@"; }
fi

port_of() { cat "$1/port"; }
# The owner may not enter the caller's directory.
cd /

conf() {	# DIR PORT: the settings of a test cluster
	cat >>"$1/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$1'
port = $2
max_connections = 200
shared_buffers = 64MB
fsync = on
wal_level = replica
max_wal_senders = 4
hot_standby = on
log_min_messages = warning
logging_collector = off
EOF
}

uri() {		# DIR: the URI of database muster on DIR's socket
	echo "postgresql:///muster?host=$1&port=$(port_of "$1")&user=muster"
}

wait_ready() {	# DIR
	for _ in $(seq 1 100); do
		if as "$bindir/pg_isready" -q -h "$1" -p "$(port_of "$1")"; then
			return 0
		fi
		sleep 0.1
	done
	echo "pg.sh: PostgreSQL in $1 did not become ready" >&2
	tail -n 20 "$1/log" >&2 || true
	return 1
}

mkdir_owned() {
	d=$(mktemp -d "${TMPDIR:-/tmp}/muster-pg.XXXXXX")
	chmod 700 "$d"
	[ "$owner" = "$(id -un)" ] || chown "$owner" "$d"
	echo "$d"
}

cmd=${1:-}
case "$cmd" in
start)
	port=${2:-5432}
	d=$(mkdir_owned)
	echo "$port" >"$d/port"
	as "$bindir/initdb" -D "$d/data" -A trust -U postgres -E UTF8 \
	    --locale=C >"$d/initdb.log" 2>&1 || {
		cat "$d/initdb.log" >&2; exit 70; }
	echo "local replication postgres trust" >>"$d/data/pg_hba.conf"
	conf "$d" "$port"
	as "$bindir/pg_ctl" -D "$d/data" -l "$d/log" -w -t 30 start \
	    >/dev/null || { tail -n 20 "$d/log" >&2; exit 70; }
	wait_ready "$d"
	as "$bindir/psql" -q -h "$d" -p "$port" -U postgres -d postgres \
	    -v ON_ERROR_STOP=1 -c "CREATE ROLE muster LOGIN" \
	    -c "CREATE DATABASE muster OWNER muster" >/dev/null
	echo "PG_DIR=$d"
	echo "PG_URI='$(uri "$d")'"
	;;
standby)
	p=$2 port=$3
	s=$(mkdir_owned)
	echo "$port" >"$s/port"
	as "$bindir/pg_basebackup" -h "$p" -p "$(port_of "$p")" -U postgres \
	    -D "$s/data" -R -X stream -c fast -d \
	    "application_name=standby" >/dev/null 2>"$s/basebackup.log" || {
		cat "$s/basebackup.log" >&2; exit 70; }
	# The copy carries the primary's settings: this one's own last, and
	# a name the primary's synchronous_standby_names can call.
	conf "$s" "$port"
	echo "primary_conninfo = 'host=$p port=$(port_of "$p") user=postgres" \
	    "application_name=standby'" >>"$s/data/postgresql.conf"
	as "$bindir/pg_ctl" -D "$s/data" -l "$s/log" -w -t 30 start \
	    >/dev/null || { tail -n 20 "$s/log" >&2; exit 70; }
	wait_ready "$s"
	# Nothing is acknowledged before the standby holds it.
	echo "synchronous_standby_names = 'standby'" >>"$p/data/postgresql.conf"
	echo "synchronous_commit = remote_write" >>"$p/data/postgresql.conf"
	as "$bindir/pg_ctl" -D "$p/data" reload >/dev/null
	for _ in $(seq 1 100); do
		st=$(as "$bindir/psql" -X -A -t -h "$p" -p "$(port_of "$p")" \
		    -U postgres -d postgres -c "SELECT sync_state FROM \
		    pg_stat_replication WHERE application_name = 'standby'")
		[ "$st" = sync ] && break
		sleep 0.1
	done
	if [ "$st" != sync ]; then
		echo "pg.sh: the standby is not synchronous ($st)" >&2
		exit 70
	fi
	echo "PG_SDIR=$s"
	echo "PG_SURI='$(uri "$s")'"
	;;
promote)
	as "$bindir/pg_ctl" -D "$2/data" -w -t 30 promote >/dev/null
	;;
restart)
	# The killed postmaster's children go once they see it gone.
	for _ in $(seq 1 50); do
		as "$bindir/pg_ctl" -D "$2/data" -l "$2/log" -w -t 30 start \
		    >/dev/null 2>&1 && break
		sleep 0.2
	done
	wait_ready "$2"
	;;
kill)
	if [ -f "$2/data/postmaster.pid" ]; then
		kill -KILL "$(head -n 1 "$2/data/postmaster.pid")" 2>/dev/null ||
		    true
	fi
	;;
stop)
	[ -n "${2:-}" ] && [ -d "$2" ] || exit 0
	case "$2" in
	*/muster-pg.*) ;;
	*) echo "pg.sh: $2 is not a test cluster" >&2; exit 64 ;;
	esac
	if [ -f "$2/data/postmaster.pid" ]; then
		as "$bindir/pg_ctl" -D "$2/data" -m immediate -w -t 30 stop \
		    >/dev/null 2>&1 || pg_kill=1
		if [ "${pg_kill:-0}" = 1 ] && [ -f "$2/data/postmaster.pid" ]
		then
			kill -KILL "$(head -n 1 "$2/data/postmaster.pid")" \
			    2>/dev/null || true
		fi
	fi
	rm -rf "$2"
	;;
psql)
	as "$bindir/psql" -X -q -A -t -h "$2" -p "$(port_of "$2")" \
	    -U postgres -d muster -v ON_ERROR_STOP=1 -c "$3"
	;;
*)
	echo "usage: pg.sh start [PORT] | standby DIR PORT | promote DIR |" \
	    "kill DIR | restart DIR | stop DIR | psql DIR SQL" >&2
	exit 64
	;;
esac
