# The steps that install.sh and install-test.sh share, sourced by both: Debian packages, the venv,
# filterd-pipe compiled, and filterd and filterd-pipe (not the venv's python or pip) on root's PATH.

VENV=${FILTERD_VENV:-/opt/filterd-venv}
BINDIR=${FILTERD_BINDIR:-/usr/local/bin}
PYTHON=${PYTHON:-python3}
APT_LOG=${FILTERD_APT_LOG:-/var/log/filterd-apt.log}
# python3-venv: Debian's python3 has no ensurepip without it. gcc, libc6-dev, python3-dev: pypcre (pcre: tables)
# builds from source, with its own pcre2.h, against the system's libpcre2-8. ca-certificates: Debian's pip
# trusts only /etc/ssl/certs.
# adduser: the mail_owner account (create_mail_owner). publicsuffix: the list the dmarc plugin reads
# organizational domains from at run time.
PYTHON_PACKAGES=(python3 python3-venv python3-dev gcc libc6-dev libpcre2-8-0 ca-certificates adduser publicsuffix)
MAIL_OWNER=${FILTERD_MAIL_OWNER:-filterd}
# filterd-pipe, the pipe service's C client: C99 and POSIX, nothing beyond libc (tests/fixtures/c_client.py
# compiles it with this same step).
FILTERD_PIPE_CFLAGS=(-std=c99 -O2 -Wall -Wextra -Werror)

say() {
    echo "$(basename "$0" .sh): $*"
}

fail() {
    echo "$(basename "$0" .sh): fatal: $*" >&2
    exit 1
}

missing_packages() {
    # Print those of the named Debian packages that are not installed.
    local package
    for package in "$@"; do
        dpkg-query -W -f='${db:Status-Status}\n' "$package" 2>/dev/null | grep -qx installed || echo "$package"
    done
}

install_packages() {
    # apt-get install what is missing, its output in $APT_LOG; nothing at all when everything is there.
    local missing
    mapfile -t missing < <(missing_packages "$@")
    [ "${#missing[@]}" -eq 0 ] && return 0
    say "installing ${missing[*]} (apt-get log: $APT_LOG)"
    if ! { apt-get update && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y --no-install-recommends "${missing[@]}"; } >"$APT_LOG" 2>&1; then
        tail -n 20 "$APT_LOG" >&2
        fail "apt-get failed; the whole log is $APT_LOG"
    fi
}

install_without_starting() {
    # install_packages with a policy-rc.d that lets no package start its daemon: clamav-daemon would start clamd
    # and freshclam, which downloads signatures. The tests start their own daemons. An existing policy-rc.d is kept.
    local policy=/usr/sbin/policy-rc.d
    if [ -e "$policy" ]; then
        install_packages "$@"
        return
    fi
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ( trap 'rm -f "$policy"' EXIT; install_packages "$@" )
}

disable_clamav_services() {
    # Debian's clamd and freshclam stay stopped and off at boot: no signature download, no clamd on the socket.
    local unit
    command -v systemctl >/dev/null || return 0
    for unit in clamav-freshclam.service clamav-daemon.socket clamav-daemon.service; do
        systemctl disable --now "$unit" >/dev/null 2>&1 || systemctl disable "$unit" >/dev/null 2>&1 || true
    done
}

make_venv() {
    # A venv from $PYTHON, which must meet filterd's requires-python (Debian 12's python3 is 3.11).
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || fail "$PYTHON is older than Python 3.11, which filterd requires"
    "$PYTHON" -m venv "$VENV"
}

pip_install() {
    # Quiet; --use-pep517 builds sdists without setup.py (pymilter, dkimpy) the way pip will, without a warning.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
        --use-pep517 "$@"
}

compile_filterd_pipe() {
    # gcc $2 (filterd-pipe) from $1 (filterd/pipe/filterd-pipe.c).
    gcc "${FILTERD_PIPE_CFLAGS[@]}" -o "$2" "$1"
}

build_filterd_pipe() {
    # filterd-pipe into the venv's bin, from the source that pip installed with filterd's package.
    local source
    source=$("$VENV/bin/python" -c 'import filterd.pipe, pathlib; print(pathlib.Path(filterd.pipe.__file__).with_name("filterd-pipe.c"))') \
        || fail "filterd is not installed in $VENV"
    compile_filterd_pipe "$source" "$VENV/bin/filterd-pipe" || fail "gcc could not compile $source"
}

link_filterd() {
    # Symlink the venv's filterd script and filterd-pipe into $BINDIR, replacing older links.
    local program
    mkdir -p "$BINDIR"
    for program in filterd filterd-pipe; do
        ln -sfn "$VENV/bin/$program" "$BINDIR/$program"
        say "$BINDIR/$program -> $VENV/bin/$program"
    done
}

create_mail_owner() {
    # The unprivileged account filterd's processes run as once the master has bound its sockets (main.cf's
    # mail_owner), made as Debian's postfix package makes its postfix user: a system user with a group of its own.
    if ! getent passwd "$MAIL_OWNER" >/dev/null; then
        adduser --quiet --system --group --no-create-home --home /var/spool/filterd \
            --gecos "filterd mail filter" "$MAIL_OWNER"
        say "created the system user $MAIL_OWNER (mail_owner)"
    fi
}
