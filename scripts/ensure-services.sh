#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432) and NATS with JetStream (127.0.0.1:4222) are up,
# installing Debian's packages and starting them when they are missing, and that Chromium and
# chromedriver (the dashboard's browser test) are installed. Idempotent and quick
# when both already run. Needs root (or sudo) only when something must be installed or started.
set -euo pipefail

log() { printf 'ensure-services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
apt_updated=no
apt_install() {
  if [ "$apt_updated" = no ]; then as_root apt-get update -qq; apt_updated=yes; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}
wait_for_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  log "nothing answers on port $1"; return 1
}

if ! port_open 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL"; apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for_port 5432
  # Local development trusts loopback connections, as the CI machines do.
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! as_root grep -q '^host all all 127.0.0.1/32 trust' "$hba"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
  fi
fi

if ! port_open 4222; then
  command -v nats-server >/dev/null || { log "installing nats-server"; apt_install nats-server; }
  log "starting nats-server with JetStream"
  as_root mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for_port 4222
fi
# The dashboard's browser test drives Debian's Chromium through chromedriver.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  log "installing chromium and chromium-driver"; apt_install chromium chromium-driver
fi
# Japanese glyphs, so that the dashboard test's screenshots in Japanese can be read.
if ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  log "installing fonts-noto-cjk"; apt_install fonts-noto-cjk
fi
# The notifier's tests deliver e-mail to a real SMTP server they start: aiosmtpd, from PyPI.
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  log "installing aiosmtpd"
  # A Debian python3 marks its packages externally managed (PEP 668): install beside them.
  python3 -m pip install -q 'aiosmtpd==1.4.6' 2>/dev/null \
    || python3 -m pip install -q --break-system-packages 'aiosmtpd==1.4.6'
fi
# scripts/validate-deploy.py (the e2e crate's deploy test) checks deploy/ against the Compose
# schema with jsonschema and the Kubernetes schemas with kubernetes-validate (PyYAML with it).
if ! python3 -c 'import jsonschema, yaml, kubernetes_validate' 2>/dev/null; then
  log "installing jsonschema and kubernetes-validate"
  python3 -m pip install -q 'jsonschema>=4.23' 'kubernetes-validate==1.37.0' 2>/dev/null \
    || python3 -m pip install -q --break-system-packages 'jsonschema>=4.23' 'kubernetes-validate==1.37.0'
fi
# The contract test (services/parcelport/tests/contract) fuzzes both OpenAPI documents with
# schemathesis 4, from PyPI.
if ! command -v schemathesis >/dev/null 2>&1 \
  || ! schemathesis --version 2>/dev/null | grep -q 'version 4\.'; then
  log "installing schemathesis"
  python3 -m pip install -q 'schemathesis>=4,<5' 2>/dev/null \
    || python3 -m pip install -q --break-system-packages 'schemathesis>=4,<5'
fi
log "PostgreSQL on 127.0.0.1:5432 and NATS on 127.0.0.1:4222 are up; chromedriver, aiosmtpd and schemathesis are installed"
