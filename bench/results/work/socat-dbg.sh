#!/bin/bash
B=/work/main/build-bench; L=$B/bench/sctp-loadgen
cd /work/main/bench/results/work
$L sink --port 9001 --count 8 --timeout 10 & sp=$!
sleep 0.3
socat -d -d -b 1048576 SCTP-LISTEN:9003,bind=127.0.0.1,fork,reuseaddr,rcvbuf=1048576,sndbuf=1048576,setsockopt-int=132:3:1,setsockopt-bin=132:16:x000000000000000001000000 SCTP-CONNECT:127.0.0.1:9001,rcvbuf=1048576,sndbuf=1048576,setsockopt-int=132:3:1,setsockopt-bin=132:16:x000000000000000001000000 2>socat.err & so=$!
sleep 0.5
$L source --to 127.0.0.1:9003 --count 8 --size 262144 --streams 4
wait $sp
kill $so; tail -30 socat.err
