"""What `estate synth`, `estate check` and `estate diff` all read a synthesized estate with:
the route simulation (route_match) and the policy table (policies), the same rules the
CrossGuard pack (policy/) enforces at `pulumi preview`. synth, checks and diff import this
package and never each other (tests/test_architecture.py)."""
