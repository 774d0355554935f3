"""Synthetic medical records from ICD-10-CM and CPT codes: written by the language model
or from a template, and kept as a patient's note when asked."""
