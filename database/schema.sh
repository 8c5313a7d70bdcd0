#!/bin/sh
# Prints the schema of the database $3 in the directory $2 of the volume
# whose root is $1, then of its copy in the restore point of version $4:
# "live SCHEMA_VERSION USER_VERSION" or "live absent", then "point ..."
# likewise. SQLite bumps schema_version at every change to the schema;
# user_version is the app's own. The live database is read through
# SQLite, read-only, so a WAL the failed version left counts; the copy,
# which nothing writes and which has no WAL, from its header, so reading
# it leaves no file beside it. Runs after safe.sh.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
root=$1 dir=$2 db=$3 version=$4
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm" "$db-journal"
if [ -e "$db" ]; then
	v=$(sqlite3 -readonly -nofollow -bail "./$db" "SELECT s.schema_version || ' ' || u.user_version FROM pragma_schema_version s, pragma_user_version u") || exit 1
	echo "live $v"
else
	echo "live absent"
fi

# be32 prints the signed big-endian 32-bit integer at byte $1 of the file
# $2 of the working directory.
be32() {
	# The four numbers od prints are meant to be split.
	# shellcheck disable=SC2046
	set -- $(dd if="$2" iflag=nofollow bs=1 skip="$1" count=4 2>/dev/null | od -An -v -tu1)
	[ $# -eq 4 ] || { echo "$PWD/$db is not an SQLite database" >&2; exit 1; }
	_n=$((($1 << 24) | ($2 << 16) | ($3 << 8) | $4))
	[ "$_n" -lt 2147483648 ] || _n=$((_n - 4294967296))
	echo "$_n"
}

for d in .ship restore-points "$version"; do
	[ -d "$d" ] || { echo "point absent"; exit 0; }
	step "$root" "$d"
done
no_link "$db"
[ -f "$db" ] || { echo "point absent"; exit 0; }
echo "point $(be32 40 "$db") $(be32 60 "$db")"
