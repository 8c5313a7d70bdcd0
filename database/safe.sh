#!/bin/sh
# Link-safe primitives, put before each script of this package that works
# inside an app's volume as root. The app can write anywhere in its volume,
# so it can plant a symbolic link where ship will look; root following it
# would read, write or delete outside the volume. So a script enters the
# volume from its root (the mount point, which the app cannot replace) one
# directory at a time, refusing links, and checks that the directory it
# reached is really inside the volume. Its working directory then holds
# that real directory, and it names files relative to it, refusing links
# there too. Nothing here follows a link.

# planted fails, naming the link.
planted() {
	echo "refusing to follow $PWD/$1: it is a symbolic link (to $(readlink -- "$1")) in the app's volume, which ship never makes; remove it, then run ship again" >&2
	exit 3
}

# no_link fails if any of its arguments, relative to the working
# directory, is a symbolic link.
no_link() {
	for _f in "$@"; do
		if [ -L "$_f" ]; then planted "$_f"; fi
	done
}

# inside fails unless the working directory is the volume root $1 or
# below it, as the kernel sees it.
inside() {
	_root=$(cd -P -- "$1" && pwd -P) || exit 1
	case "$(pwd -P)/" in
	"$_root"/*) ;;
	*)
		echo "$(pwd -P) is outside the app's volume $_root: refusing to work there" >&2
		exit 3
		;;
	esac
}

# step enters the directory $2 of the working directory, inside volume
# root $1, refusing a link; with a third argument it makes it (mode 0700)
# when missing.
step() {
	no_link "$2"
	if [ -n "${3-}" ] && [ ! -e "$2" ]; then mkdir -m 700 -- "$2" || exit 1; fi
	cd -P -- "$2" || exit 1
	inside "$1"
}

# enter goes to the directory $2 (relative, "." for the root itself) of
# the volume whose root is $1, one component at a time.
enter() {
	cd -P -- "$1" || exit 1
	_ifs=$IFS
	IFS=/
	set -f
	for _c in $2; do
		IFS=$_ifs
		case $_c in
		"" | .) continue ;;
		..)
			echo "$2 leaves the volume: refusing it" >&2
			exit 3
			;;
		esac
		step "$1" "$_c"
	done
	set +f
	IFS=$_ifs
	inside "$1"
}
