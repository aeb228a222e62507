#!/usr/bin/env bash
# Install filterd from this checkout into a venv with filterd on root's PATH, install the default
# configuration and the starter tables where there are none, and run filterd in the foreground (as root,
# on Debian 12).
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

main() {
    install_packages "${PACKAGES[@]}"
    make_venv
    pip_install --upgrade "$REPO"
    link_filterd
    install_config
    exec "$VENV/bin/filterd" -c "$CONFIG" start-fg
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
