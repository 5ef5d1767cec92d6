"""StructureDefinitions and the validator driven by them."""
