"""The house rules every layer shares, each in one place: Prometheus durations (durations),
label names (labels) and what each environment must meet (environments). No imports from the
rest of the project: the config, the rules, the plans, the policies and the tools read these."""
