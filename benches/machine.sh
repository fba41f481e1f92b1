#!/usr/bin/env bash
# Prints what docs/performance.md records about the machine a figure was taken on.
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "commit: $(git -C "$(dirname "$0")/.." rev-parse --short HEAD 2>/dev/null)$(git -C "$(dirname "$0")/.." diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo "cores: $(nproc) · $(lscpu | sed -n 's/^Model name: *//p') · $(free -g | awk '/^Mem:/ {print $2}') GiB"
echo "os: $(. /etc/os-release && echo "$PRETTY_NAME") · $(rustc --version)"
