#!/bin/sh
# Installs what ship needs on a host from Debian/Ubuntu packages: Docker
# Engine, and sqlite3 for ship db's integrity checks, row counts and
# restore points. Exit 3 means "will not install here"; stderr says why.
set -eu
engine() { docker version --format '{{.Server.Version}}' 2>/dev/null; }
missing=""
if v=$(engine); then
	echo "Docker Engine $v is already installed"
else
	missing="docker.io"
fi
if command -v sqlite3 >/dev/null 2>&1; then
	echo "sqlite3 is already installed"
else
	missing="${missing:+$missing }sqlite3"
fi
[ -n "$missing" ] || exit 0
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	echo "$missing missing and $(id -un) is not root and has no passwordless sudo: install it by hand, or connect as root" >&2
	exit 3
fi
ID="" ID_LIKE="" PRETTY_NAME=""
# The host's own file, read when the script runs: nothing to lint here.
# shellcheck source=/dev/null
[ -r /etc/os-release ] && . /etc/os-release
case " $ID $ID_LIKE " in
*" debian "* | *" ubuntu "*) ;;
*)
	echo "$missing missing and ship installs packages only on Debian and Ubuntu, not ${PRETTY_NAME:-this system}: install it by hand" >&2
	exit 3
	;;
esac
echo "Installing $missing with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086 # one word per package
$SUDO apt-get install -y -q $missing
case "$missing" in
*docker.io*) ;;
*) exit 0 ;;
esac
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$SUDO systemctl enable --now docker
else
	$SUDO service docker start
fi
if [ -n "$SUDO" ]; then
	$SUDO usermod -aG docker "$(id -un)"
	echo "Added $(id -un) to the docker group"
fi
if ! v=$($SUDO docker version --format '{{.Server.Version}}'); then
	echo "docker.io is installed but the engine does not answer: see journalctl -u docker" >&2
	exit 1
fi
echo "Docker Engine $v installed"
