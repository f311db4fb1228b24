#!/bin/bash
B=/work/main/build-bench
L=$B/bench/sctp-loadgen
cd /work/main/bench/results/work
for size in 100 65536; do
  n=$(( size > 1000 ? 300 : 5000 ))
  $L sink --port 9001 --count $n > sink.out & sp=$!
  sleep 0.5
  /usr/bin/time -f "source %e s" $L source --to 127.0.0.1:9001 --count $n --size $size --streams 4
  wait $sp; cat sink.out | tail -1
  # c_relay
  $L sink --port 9002 --count $n > sink.out & sp=$!
  sleep 0.5
  $B/bench/c_relay --listen 9003 --to 127.0.0.1:9002 & cp=$!
  sleep 0.5
  $L source --to 127.0.0.1:9003 --count $n --size $size --streams 4
  wait $sp; tail -1 sink.out; wait $cp
done
$L echo --port 9010 > echo.out & ep=$!
sleep 0.5
$L latency --to 127.0.0.1:9010 --count 2000 --size 100
$L latency --to 127.0.0.1:9010 --count 2000 --size 100 --outstanding 32
time (echo | $L assocs --to 127.0.0.1:9010 --count 1000)
kill $ep; wait $ep; cat echo.out
