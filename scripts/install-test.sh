#!/usr/bin/env bash
# Set up everything filterd's tests need on Debian 12 (as root) and run them:
# the mail software from apt, a venv with filterd installed editable, then pytest.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=${FILTERD_VENV:-/opt/filterd-venv}
PYTHON=${PYTHON:-python3}
PACKAGES=(
    postfix postfix-pcre postfix-doc swaks spamassassin spamd spamc dovecot-core dovecot-lmtpd
    opendkim opendkim-tools libmilter-dev miltertest pflogsumm
    gcc libc6-dev python3-dev libpcre2-8-0
)
NO_TESTS_COLLECTED=5

install_packages() {
    apt-get update
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"
}

make_venv() {
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "install-test: $PYTHON is older than Python 3.11" >&2
        exit 1
    fi
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -e "$REPO[test]"
}

run_tests() {
    local status=0
    cd "$REPO"
    "$VENV/bin/python" -m pytest -q "$@" || status=$?
    if [ "$status" -eq "$NO_TESTS_COLLECTED" ]; then
        echo "install-test: pytest collected no tests" >&2
    fi
    return "$status"
}

install_packages
make_venv
run_tests "$@"
