#!/bin/sh
# Alternating runs: ours, gix, ours, gix ... N pairs. Output: mode load1 wall user sys maxrss_kib
here=$(cd "$(dirname "$0")" && pwd)
B=$here/target/release/gixbench; G=${2:?usage: run.sh PAIRS GIT_DIR}; N=${1:-5}
for i in $(seq 1 $N); do
  for m in ours gix; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    /usr/bin/time -f '%e %U %S %M' -o /tmp/gixbench-t $B $m $G >/tmp/gixbench-out 2>/tmp/gixbench-err
    echo "$m | load $load | $(cat /tmp/gixbench-t) | $(grep -o 'peak RssAnon [0-9]* MiB' /tmp/gixbench-err) | $(cat /tmp/gixbench-out)"
  done
done
