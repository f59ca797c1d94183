"""complaintflow serve: the complaint desk as a running service (the only home of the web stack)."""
