"""The live-server harness the end-to-end tests and the benchmarks share: real Prometheus and
Alertmanager processes on loopback (servers), notifier sinks (sinks) and a simulated backend
(backend). Everything binds to 127.0.0.1 and every loop is bounded in time."""
