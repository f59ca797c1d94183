"""Tests of complaintflow serve, run as a real subprocess."""
