"""Neural networks: the two-headed score network and the generator."""
