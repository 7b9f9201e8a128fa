"""A NET clinic's worklist over a FHIR Bulk Data export: the hooks' rules for a whole population.

One row per patient, read off exactly what the patient-view hook answers for that patient
(`evaluate.py`, the only module that interprets a patient); the other modules read the export,
group it by patient, run the engines and write the rows (docs/worklist.md).
"""
