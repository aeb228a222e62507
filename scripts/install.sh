#!/usr/bin/env bash
# Install filterd from this checkout into a venv with filterd on root's PATH, install the default
# configuration if there is none, and run filterd in the foreground (as root, on Debian 12).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/scripts/install-steps.sh"
CONFIG=${FILTERD_CONFIG:-/etc/filterd/main.cf}
# swaks: the README's next step sends the first message with it.
PACKAGES=("${PYTHON_PACKAGES[@]}" swaks)

install_config() {
    if [ ! -e "$CONFIG" ]; then
        install -D -m 644 "$REPO/conf/main.cf" "$CONFIG"
        say "wrote $CONFIG"
    fi
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
