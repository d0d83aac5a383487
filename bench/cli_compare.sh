#!/usr/bin/env bash
# Compares `coffer encrypt`/`coffer decrypt` with age, gpg --symmetric and openssl enc on the same
# files in one run, and reports median wall time, throughput, peak RSS and ratios to age.
# (A benchmark, not a test: the machine is noisy, so read the ratios.)
#
#   bench/cli_compare.sh [--size MiB] [--runs N] [--rss-size MiB] [--skip-rss]
#
# Defaults: 1024 MiB input, 5 runs per command, peak-RSS check on a 4096 MiB input.
# Installs age, hyperfine and GNU time from Debian if they are missing; builds coffer in release
# mode. Scratch files go to $BENCH_DIR (default: a fresh directory under /tmp), removed at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

size_mib=1024
runs=5
rss_mib=4096
skip_rss=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size_mib="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --rss-size) rss_mib="$2"; shift 2 ;;
        --skip-rss) skip_rss=1; shift ;;
        *) echo "usage: $0 [--size MiB] [--runs N] [--rss-size MiB] [--skip-rss]" >&2; exit 64 ;;
    esac
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v age >/dev/null || missing+=(age)
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
command -v gpg >/dev/null || missing+=(gnupg)
command -v openssl >/dev/null || missing+=(openssl)
command -v jq >/dev/null || missing+=(jq)
command -v bc >/dev/null || missing+=(bc)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

echo "== building coffer (release)" >&2
swift build -c release --static-swift-stdlib --product coffer >&2
coffer="$(swift build -c release --static-swift-stdlib --show-bin-path)/coffer"

work="${BENCH_DIR:-$(mktemp -d /tmp/coffer-bench.XXXXXX)}"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "== preparing ${size_mib} MiB of random input and keys in $work" >&2
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > input
head -c 1024 /dev/urandom > small
echo "benchmark passphrase $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" > passphrase
# Coffer's identity file is sealed under a wrapping key (what a script or service uses: no scrypt
# at start-up); age's identity file is in clear. A passphrase-sealed identity adds one scrypt
# (N=2^17: about 0.3 s and 128 MiB) to every decrypt.
"$coffer" wrapping-key generate -o wrapping.key
export COFFER_IDENTITY_WRAPPING_KEY_FILE="$work/wrapping.key"
"$coffer" keygen --wrapping-key-file wrapping.key -o coffer.identity 2> coffer.keygen
coffer_recipient="$(sed -n 's/^Public key: //p' coffer.keygen)"
age-keygen -o age.identity 2> /dev/null
age_recipient="$(age-keygen -y age.identity)"
gpg_home="$work/gnupg"; mkdir -m 700 "$gpg_home"
gpg_sym=(gpg --homedir "$gpg_home" --batch --quiet --pinentry-mode loopback --passphrase-file passphrase)

# Ciphertexts to decrypt, made once.
"$coffer" encrypt -r "$coffer_recipient" -o input.coffer input
age -r "$age_recipient" -o input.age input
"${gpg_sym[@]}" --symmetric --cipher-algo AES256 --compress-algo none -o input.gpg input
openssl enc -aes-256-ctr -pbkdf2 -pass file:passphrase -in input -out input.openssl
"$coffer" encrypt -r "$coffer_recipient" -o small.coffer small
age -r "$age_recipient" -o small.age small

declare -A commands=(
    [coffer-encrypt]="$coffer encrypt -r $coffer_recipient input"
    [age-encrypt]="age -r $age_recipient input"
    [gpg-encrypt]="${gpg_sym[*]} --symmetric --cipher-algo AES256 --compress-algo none -o - input"
    [openssl-encrypt]="openssl enc -aes-256-ctr -pbkdf2 -pass file:passphrase -in input"
    [coffer-decrypt]="$coffer decrypt -i coffer.identity input.coffer"
    [age-decrypt]="age -d -i age.identity input.age"
    [gpg-decrypt]="${gpg_sym[*]} --decrypt -o - input.gpg"
    [openssl-decrypt]="openssl enc -d -aes-256-ctr -pbkdf2 -pass file:passphrase -in input.openssl"
    [coffer-encrypt-1k]="$coffer encrypt -r $coffer_recipient small"
    [age-encrypt-1k]="age -r $age_recipient small"
    [coffer-decrypt-1k]="$coffer decrypt -i coffer.identity small.coffer"
    [age-decrypt-1k]="age -d -i age.identity small.age"
)
order=(coffer-encrypt age-encrypt gpg-encrypt openssl-encrypt coffer-decrypt age-decrypt gpg-decrypt openssl-decrypt)
small_order=(coffer-encrypt-1k age-encrypt-1k coffer-decrypt-1k age-decrypt-1k)

# No shell between hyperfine and the command (-N), output to /dev/null by hyperfine itself: the
# 1 KiB rows measure the programs, not a shell's start-up.
median() { hyperfine -N --output=null --style none --runs "$2" --warmup "$3" --export-json "$1.json" "${commands[$1]}" >&2; jq '.results[0].median' "$1.json"; }
peak_rss_kib() { /usr/bin/time -f '%M' -o "$1.rss" ${commands[$1]} > /dev/null; tail -1 "$1.rss"; }

declare -A seconds rss
for name in "${order[@]}"; do
    echo "== $name (${size_mib} MiB, $runs runs)" >&2
    seconds[$name]=$(median "$name" "$runs" 1)
    rss[$name]=$(peak_rss_kib "$name")
done
for name in "${small_order[@]}"; do
    echo "== $name (1 KiB, 30 runs)" >&2
    seconds[$name]=$(median "$name" 30 3)
done

echo
echo "machine: $(nproc) cores, $(uname -sr); coffer $("$coffer" --version), $(age --version | head -1 | sed 's/^/age /'), $(gpg --version | head -1), $(openssl version | cut -d' ' -f1-2)"
echo
printf '%-18s %10s %10s %12s %10s\n' "command (${size_mib} MiB)" "median s" "MB/s" "peak RSS MiB" "vs age"
for name in "${order[@]}"; do
    peer="age-${name#*-}"
    printf '%-18s %10.3f %10.0f %12.1f %9.2fx\n' "$name" "${seconds[$name]}" \
        "$(echo "$size_mib * 1.048576 / ${seconds[$name]}" | bc -l)" "$(echo "${rss[$name]} / 1024" | bc -l)" \
        "$(echo "${seconds[$peer]} / ${seconds[$name]}" | bc -l)"
done
echo
printf '%-18s %10s %10s\n' "command (1 KiB)" "median ms" "vs age"
for name in "${small_order[@]}"; do
    peer="age-${name#*-}"
    printf '%-18s %10.2f %9.2fx\n' "$name" "$(echo "${seconds[$name]} * 1000" | bc -l)" "$(echo "${seconds[$peer]} / ${seconds[$name]}" | bc -l)"
done
echo "(\"vs age\" is age's time divided by this command's: above 1 is faster than age)"

if [ "$skip_rss" -eq 0 ]; then
    echo
    echo "== peak RSS on a ${rss_mib} MiB input" >&2
    rm -f input input.coffer input.age input.gpg input.openssl
    head -c "$((rss_mib * 1024 * 1024))" /dev/urandom > big
    /usr/bin/time -f '%M' -o enc.rss "$coffer" encrypt -r "$coffer_recipient" -o big.coffer big
    rm -f big
    /usr/bin/time -f '%M' -o dec.rss "$coffer" decrypt -i coffer.identity big.coffer > /dev/null
    printf 'peak RSS, %s MiB input: coffer encrypt %.1f MiB, coffer decrypt %.1f MiB\n' "$rss_mib" \
        "$(echo "$(tail -1 enc.rss) / 1024" | bc -l)" "$(echo "$(tail -1 dec.rss) / 1024" | bc -l)"
fi
