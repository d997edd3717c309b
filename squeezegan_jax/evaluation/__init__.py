"""Scores of generated samples: FID, KID, precision/recall, density/coverage, class and mode coverage."""
