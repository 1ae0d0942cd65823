"""Selection runs, the ranked shortlist, decisions and exports (staff), on the staff blueprint."""
