#!/usr/bin/env bash
# Install filterd from this checkout into a venv, install the default configuration if there
# is none, and run filterd in the foreground (as root, on Debian 12).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${FILTERD_VENV:-/opt/filterd-venv}
PYTHON=${PYTHON:-python3}
CONFIG=${FILTERD_CONFIG:-/etc/filterd/main.cf}

ensure_venv_support() {
    # pypcre (filterd's pcre: tables, on the system's PCRE2 like Postfix) builds from source: gcc and Python.h.
    local headers
    headers=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null || true)
    if ! command -v "$PYTHON" >/dev/null || ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null \
            || ! command -v gcc >/dev/null || [ ! -e "$headers/Python.h" ]; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            python3-venv python3-dev gcc libc6-dev libpcre2-8-0
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "install: $PYTHON is older than Python 3.11" >&2
        exit 1
    fi
}

install_package() {
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --upgrade "$REPO"
}

install_config() {
    if [ ! -e "$CONFIG" ]; then
        install -D -m 644 "$REPO/conf/main.cf" "$CONFIG"
        echo "install: wrote $CONFIG"
    fi
}

ensure_venv_support
install_package
install_config
exec "$VENV/bin/filterd" -c "$CONFIG" start-fg
