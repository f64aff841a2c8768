# test/lib/packages.sh: install the Debian packages the harness needs.
# shellcheck shell=bash

# True if the Debian package $1 is installed.
pkg_installed()
{
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[[ $status == "install ok installed" ]]
}

# Install whichever of the given packages are missing (apt-get update once).
# Not being root with packages missing is an error that names them.
ensure_packages()
{
	local missing=() pkg

	command -v dpkg-query >/dev/null ||
		die "dpkg-query not found: this harness expects Debian 12 (bookworm)"
	for pkg in "$@"; do
		pkg_installed "$pkg" || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) && return 0

	if ! is_root; then
		die "missing packages, install them first: sudo apt-get install ${missing[*]}"
	fi
	log "installing: ${missing[*]}"
	# Installing postgresql-15 creates (and may start) the default cluster
	# 15/main on port 5432; we never use or touch it.
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		"${missing[@]}" >/dev/null ||
		die "apt-get install failed for: ${missing[*]}"
}
