#!/usr/bin/env bash
# Table of every run directory under ${OUT:-/tmp/probe-runs}.
cd "${OUT:-/tmp/probe-runs}" || exit 1
printf "%-20s %6s %6s %7s %9s %9s %6s %8s %8s %s\n" run ok failed retrans ms/call ms/call+dr cores HWM_MB RSSend_MB ">200ms"
for d in */; do d=${d%/}; f=$d/probe.out; [ -f "$f" ] || continue; ls $d/sipp*.screen >/dev/null 2>&1 || continue; grep -q "Successful call" $d/sipp*.screen || continue
  ok=0; fail=0; retr=0; slow=0
  for s in $d/sipp*.screen; do
    ok=$(( ok + $(grep -E "^\s*Successful call" $s | tail -1 | awk '{print $NF}') ))
    fail=$(( fail + $(grep -E "^\s*Failed call" $s | tail -1 | awk '{print $NF}') ))
    r=$(awk '/Scenario Screen/{blk=""} {blk=blk"\n"$0} END{print blk}' $s | grep -E -- "---->|<----" |
        awk '{n=0; a=0; for(i=1;i<=NF;i++) { if ($i ~ /--/) { a=1; continue } if (a && $i ~ /^[0-9]+$/) { n++; if (n==2) { s+=$i; break } } } } END{print s+0}')
    retr=$(( retr + r ))
    sl=$(awk '/Response Time Repartition 1/{f=1;next} /Call Length Repartition/{f=0} f && /n >=/' $s | awk '{print $NF}' | head -1)
    slow=$(( slow + ${sl:-0} ))
  done
  g() { grep -oE "(^| )$1=[0-9.]+" $f | head -1 | cut -d= -f2; }
  printf "%-20s %6s %6s %7s %9s %9s %6s %8.0f %8.0f %s\n" $d $ok $fail $retr "$(g cpu_ms_per_call)" "$(g cpu_ms_per_call_incl_drain)" "$(g avg_cores_busy)" \
     $(( $(g VmHWM_kB) / 1024 )) $(( $(g VmRSS_kB) / 1024 )) $slow
done
