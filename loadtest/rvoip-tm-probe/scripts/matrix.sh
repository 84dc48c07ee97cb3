#!/usr/bin/env bash
# The full measurement matrix used for README.md. ~20 minutes.
cd "$(dirname "$0")/.."
R=scripts/run_point.sh
for rep in a b; do
  for rate in 250 500 1000; do
    DRAIN=3  $R raw-$rate-$rep        $rate $(( rate * 12 )) 1 -- --mode raw
    DRAIN=36 $R tm-default-$rate-$rep $rate $(( rate * 12 )) 1 -- --mode tm --profile default
    DRAIN=36 $R tm-hp-$rate-$rep      $rate $(( rate * 12 )) 1 -- --mode tm --profile hp
  done
  DRAIN=3  $R raw-2000-$rep        2000 24000 2 -- --mode raw
  DRAIN=36 $R tm-default-2000-$rep 2000 24000 2 -- --mode tm --profile default
  DRAIN=36 $R tm-hp-2000-$rep      2000 24000 2 -- --mode tm --profile hp
done
