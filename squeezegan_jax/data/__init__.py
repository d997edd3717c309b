"""Data: data sets by name, image sources, fitted copies, parallel readers and preparation."""
