"""Benchmarks (not tests): score-to-screen latency, fan-out beside peer servers, durable-ack
cost and scale-out. Run ``bench/run.sh``; it writes docs/benchmarks.md and its plots."""
