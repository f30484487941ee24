"""What a diff says: its summary and text, the drift table, the histogram of one variable's
change, and the counterparts of a changed function's nodes."""
