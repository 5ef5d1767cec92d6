"""Maternal and child health computations: growth, pregnancy and immunization."""
