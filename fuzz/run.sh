#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each; FUZZ_SECONDS overrides).
# cargo-fuzz is installed from crates.io if missing. The toolchain here is stable rustc, so
# nightly flags are enabled with RUSTC_BOOTSTRAP and the address sanitizer is off.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
for target in $(cargo fuzz list); do
  mkdir -p "corpus/$target" "seeds/$target"
  echo "== $target ($seconds s)"
  # New inputs go to corpus/ (not kept in git); seeds/ holds the boundaries found by hand.
  cargo fuzz run --sanitizer none "$target" "corpus/$target" "seeds/$target" -- -max_total_time="$seconds" -max_len=4096
done
echo "fuzz: all targets ran clean"
