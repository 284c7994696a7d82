"""The application service: canonical call in, canonical answer out, one store transaction per call."""
