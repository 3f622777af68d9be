#!/usr/bin/env bash
# A long mutation fuzz campaign over the shipped scenarios (see tests/mutation_campaign.rs):
#   bash tests/fuzz/campaign.sh [FILES=3000] [SEED=1]
# Builds in release mode, runs FILES mutated scenario files two at a time, prints the table quoted in
# docs/reliability.md and keeps any failing file (its folder is printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
files="${1:-3000}"
seed="${2:-1}"
BIOCLUSTER_CAMPAIGN_FILES="$files" BIOCLUSTER_CAMPAIGN_SEED="$seed" \
    cargo test --release --locked --test mutation_campaign -- --nocapture 2>&1 |
    grep -vE '^\s+(Compiling|Finished|Running)' 
