"""Panel reviewers, reviewer assignment and moderation."""
