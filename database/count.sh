#!/bin/sh
# Prints the row count of each table of the database $3 in the directory
# $2 under $1 as JSON, reading with -readonly so that it never takes the
# write lock, and -nofollow. Litestream 0.3's own bookkeeping tables are
# not the app's data. Runs after safe.sh.
command -v sqlite3 >/dev/null || { echo "sqlite3 is not installed on this host: ship server bootstrap installs it (or apt-get install sqlite3)" >&2; exit 127; }
root=$1 dir=$2 db=$3
enter "$root" "$dir"
no_link "$db" "$db-wal" "$db-shm" "$db-journal"
q=$(sqlite3 -readonly -nofollow -bail "./$db" "SELECT group_concat('SELECT ' || quote(name) || ' AS t, count(*) AS n FROM \"' || replace(name, '\"', '\"\"') || '\"', ' UNION ALL ') FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name NOT LIKE '\_litestream\_%' ESCAPE '\'") || exit 1
[ -n "$q" ] || { echo '[]'; exit 0; }
sqlite3 -readonly -nofollow -bail -json "./$db" "$q"
