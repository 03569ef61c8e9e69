"""The demo ledger: a deterministic synthetic ledger over the real divisions, calibrated to the published figures."""
