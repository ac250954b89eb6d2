"""Static reference lists for the demo-data generator (names, places, the vehicle catalogue)."""
