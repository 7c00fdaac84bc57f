"""Speech: a synthetic /a/ corpus, its formants, WORLD analysis and the PCA space."""
