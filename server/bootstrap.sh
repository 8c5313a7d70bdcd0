# Installs Docker Engine from Debian/Ubuntu packages when it is missing.
# Exit 3 means "will not install here"; stderr says why.
set -eu
engine() { docker version --format '{{.Server.Version}}' 2>/dev/null; }
if v=$(engine); then
	echo "Docker Engine $v is already installed"
	exit 0
fi
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	echo "Docker is missing and $(id -un) is not root and has no passwordless sudo: install Docker by hand, or connect as root" >&2
	exit 3
fi
ID="" ID_LIKE="" PRETTY_NAME=""
[ -r /etc/os-release ] && . /etc/os-release
case " $ID $ID_LIKE " in
*" debian "* | *" ubuntu "*) ;;
*)
	echo "Docker is missing and ship installs it only on Debian and Ubuntu, not ${PRETTY_NAME:-this system}: install it by hand" >&2
	exit 3
	;;
esac
echo "Installing Docker Engine (docker.io) with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q docker.io
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
