"""The HL7 V2-to-FHIR IG vocabulary ConceptMap sheets (data files)."""
