"""Studies: the query loop, the rating ledger, and studies that wait for people."""
