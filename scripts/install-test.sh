#!/usr/bin/env bash
# Set up everything filterd's tests need on Debian 12 (as root) and run them: the mail software from apt,
# a venv with filterd installed editable (and filterd on root's PATH), then pytest.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$REPO/scripts/install-steps.sh"
PACKAGES=(
    "${PYTHON_PACKAGES[@]}"
    postfix postfix-pcre postfix-doc swaks spamassassin spamd spamc dovecot-core dovecot-lmtpd
    opendkim opendkim-tools libmilter-dev miltertest pflogsumm libmail-dkim-perl
    clamav-daemon  # clamd: tests/plugins/clamav starts its own, on a database the test writes
    graphviz  # dot: tests/test_architecture_diagram.py redraws docs/architecture.svg
    procps  # ps: tests/integration/test_service.py looks at the workers' user as an administrator does
    iproute2  # ip: tests/netns.py brings up the loopback of the network namespace Postfix asks DNS in
    haproxy  # tests/integration/test_haproxy_vs_postfix.py puts one in front of filterd (send-proxy, send-proxy-v2)
)
NO_TESTS_COLLECTED=5

preseed_postfix() {
    # Postfix installed with no configuration: the tests start their own private instances.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
}

run_tests() {
    local status=0
    cd "$REPO"
    # Bytecode once, up front: the tests start filterd hundreds of times, and where PYTHONDONTWRITEBYTECODE is set
    # (as on CI's machines) each start would compile every module again.
    "$VENV/bin/python" -m compileall -q filterd plugins policies tests bench examples >/dev/null
    "$VENV/bin/python" -m pytest -q "$@" || status=$?
    if [ "$status" -eq "$NO_TESTS_COLLECTED" ]; then
        echo "install-test: pytest collected no tests" >&2
    fi
    return "$status"
}

main() {
    preseed_postfix
    install_without_starting "${PACKAGES[@]}"
    disable_clamav_services
    make_venv
    pip_install --editable "$REPO[test]"
    build_filterd_pipe
    link_filterd
    create_mail_owner
    run_tests "$@"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
