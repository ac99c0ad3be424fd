"""The simulated exchange: a pure, deterministic domain core that knows nothing of FIX."""
