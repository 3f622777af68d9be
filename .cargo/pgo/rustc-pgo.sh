#!/bin/sh
# Cargo's rustc wrapper (.cargo/config.toml): cargo runs it as `rustc-pgo.sh RUSTC ARGS...`. It adds
# `-Cprofile-use` with biocluster.profdata beside this script when that compiler can read the profile
# (LLVM 22, the LLVM of Rust 1.95, which wrote it), and runs the compiler unchanged otherwise: for
# another toolchain, for cargo's version query, and for builds that instrument the code themselves
# (training a new profile, coverage, fuzzing). Mismatch warnings are off: a function changed since
# the profile was recorded is simply compiled without it (retrain with benches/pgo-train.sh).
profile="$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)/biocluster.profdata"
case " $* " in
*" -vV "* | *profile-generate* | *profile-use* | *instrument-coverage* | *sancov*) exec "$@" ;;
esac
if [ -f "$profile" ] && "$1" -vV 2>/dev/null | grep -q '^LLVM version: 22\.'; then
    exec "$@" "-Cprofile-use=$profile" "-Cllvm-args=-no-pgo-warn-mismatch"
fi
exec "$@"
