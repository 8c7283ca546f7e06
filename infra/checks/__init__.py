"""Validators over synth output, shared by `estate check` and the CrossGuard policy pack."""
