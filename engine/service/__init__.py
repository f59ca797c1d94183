"""The running complaint desk: the pieces `complaintflow serve` puts together (notifier channels first)."""
