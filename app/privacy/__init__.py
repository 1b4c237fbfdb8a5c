"""Personal data (PIPL): sealing at rest, masking, reveals and their log, consent, deletion
and retention."""
