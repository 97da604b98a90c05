#!/bin/sh
# Redis for deploy/compose.yaml: the shipped deploy/redis/sealbox.conf with the ACL user's
# password hash filled in from $SEALBOX_REDIS_PASSWORD, written to a private tmpfs, then
# redis-server on that file. The password never appears on a command line (`ps` shows
# every process's arguments to every user) and is not in redis-server's environment.
set -eu
: "${SEALBOX_REDIS_PASSWORD:?set it in .env}"
template=${SEALBOX_REDIS_CONF:-/sealbox/redis.conf}
conf=${SEALBOX_REDIS_RUN_DIR:-/run/sealbox-redis}/redis.conf
hash=$(printf %s "$SEALBOX_REDIS_PASSWORD" | sha256sum | cut -d' ' -f1)
unset SEALBOX_REDIS_PASSWORD
umask 077
mkdir -p "$(dirname "$conf")"
grep -q '#0\{64\}' "$template" || { echo "compose-start.sh: no password placeholder in $template" >&2; exit 2; }
sed "s/#0\{64\}/#$hash/" "$template" > "$conf"
exec redis-server "$conf" "$@"
