"""Staff: selection runs: engine input, runs, the shortlist presenter (the panel shows it too),
decisions, outcome emails and the rationale. Views register on the staff blueprint."""
