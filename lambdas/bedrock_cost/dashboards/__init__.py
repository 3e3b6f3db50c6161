"""The CloudWatch dashboard body, generated from the config at synth time (and by the demo)."""
