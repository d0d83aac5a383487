#!/usr/bin/env bash
# The one command that runs Coffer's whole test suite, installing what the tests need if it is
# missing. `.ci/run` calls exactly this.
#
#   scripts/test.sh [extra swift test arguments]
#
# Needs: Swift 6.1+ (the toolchain), the system zlib headers (zlib1g-dev), Python 3 with
# `cryptography` (Fernet interop and the benchmark's peer), PostgreSQL 15's server binaries (the
# key-store tests start a throwaway cluster on 127.0.0.1 and stop it at exit), SoftHSM2 and
# p11-kit's PKCS#11 header (the HSM root key is tested against a real SoftHSM2 token). Public vectors are read
# from $COFFER_VECTORS_DIR or ../shared/vectors; without them those suites are skipped, with the
# reason printed.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
[ -f /usr/include/zlib.h ] || need_apt+=(zlib1g-dev)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-pip)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -f /usr/include/p11-kit-1/p11-kit/pkcs11.h ] || need_apt+=(libp11-kit-dev)
[ -f /usr/lib/softhsm/libsofthsm2.so ] || need_apt+=(softhsm2)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql-15)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "== installing ${need_apt[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi
if ! python3 -c 'import cryptography' >/dev/null 2>&1; then
    echo "== installing Python cryptography"
    python3 -m pip install --quiet cryptography || python3 -m pip install --quiet --break-system-packages cryptography
fi
if ! python3 -c 'import openapi_spec_validator, yaml' >/dev/null 2>&1; then
    echo "== installing Python openapi-spec-validator (checks docs/openapi.yaml)"
    python3 -m pip install --quiet openapi-spec-validator pyyaml || python3 -m pip install --quiet --break-system-packages openapi-spec-validator pyyaml
fi
if ! python3 -c 'import cryptography_vectors' >/dev/null 2>&1; then
    # The Fernet spec vectors ship in cryptography-vectors; take the release matching cryptography.
    vectors="cryptography-vectors==$(python3 -c 'import cryptography; print(cryptography.__version__)')"
    echo "== installing Python $vectors"
    python3 -m pip install --quiet "$vectors" || python3 -m pip install --quiet --break-system-packages "$vectors"
fi

if [ -z "${COFFER_VECTORS_DIR:-}" ] && [ -d ../shared/vectors ]; then
    export COFFER_VECTORS_DIR="$(cd ../shared/vectors && pwd)"
fi
echo "== public vectors: ${COFFER_VECTORS_DIR:-not found (those suites will be skipped)}"

echo "== swift build (tests)"
swift build --build-tests
# Live servers log into this directory and the tests record the secrets they use; after the
# run, every log (the servers' and the whole swift test output) is scanned for those secrets.
logs="$(mktemp -d -t coffer-test-logs-XXXXXX)"
export COFFER_TEST_LOG_DIR="$logs" COFFER_TEST_SECRETS_FILE="$logs/secrets.txt"
echo "== swift test (logs in $logs)"
swift test --skip-build "$@" 2>&1 | tee "$logs/swift-test.log"
if [ $# -eq 0 ]; then
    echo "== scanning the suite's logs for the secrets the tests used"
    python3 scripts/scan_test_logs.py "$logs"
fi
