#!/usr/bin/env bash
# Install filterd from this checkout into a venv with filterd on root's PATH, create its mail_owner account,
# install the default configuration and the starter tables where there are none, and start filterd as a service:
# under systemd through examples/systemd/filterd.service, elsewhere with `filterd start` (as root, on Debian 12).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/scripts/install-steps.sh"
CONFIG=${FILTERD_CONFIG:-/etc/filterd/main.cf}
# swaks: the README's next step sends the first message with it.
PACKAGES=("${PYTHON_PACKAGES[@]}" swaks)

install_new() {
    # Install file $1 as $2, unless $2 exists: what the administrator has is never replaced.
    if [ ! -e "$2" ]; then
        install -D -m 644 "$1" "$2"
        say "wrote $2"
    fi
}

install_config() {
    # The default main.cf, and beside it the starter header_checks tables (used once main.cf names them).
    local table
    install_new "$REPO/conf/main.cf" "$CONFIG"
    for table in "$REPO"/conf/header_checks/*.pcre; do
        install_new "$table" "$(dirname "$CONFIG")/$(basename "$table")"
    done
}

UNIT=/etc/systemd/system/filterd.service

systemd_runs() {
    [ -d /run/systemd/system ]
}

start_service() {
    # systemd's unit where systemd runs (enabled at boot), `filterd start` elsewhere; a running filterd is
    # restarted, so that it runs the code just installed.
    if systemd_runs && [ "$CONFIG" = /etc/filterd/main.cf ]; then
        sed "s|/usr/local/bin/filterd|$BINDIR/filterd|" "$REPO/examples/systemd/filterd.service" >"$UNIT"
        systemctl daemon-reload
        systemctl enable --quiet filterd
        systemctl restart filterd
        say "started filterd with systemd ($UNIT): systemctl status filterd"
        return
    fi
    if "$BINDIR/filterd" -c "$CONFIG" status >/dev/null 2>&1; then
        "$BINDIR/filterd" -c "$CONFIG" stop
    fi
    "$BINDIR/filterd" -c "$CONFIG" start
}

main() {
    install_packages "${PACKAGES[@]}"
    make_venv
    pip_install --upgrade "$REPO"
    build_filterd_pipe
    link_filterd
    create_mail_owner
    install_config
    start_service
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
