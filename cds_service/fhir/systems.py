"""Canonical code-system and profile URIs, for code that writes FHIR (samples, test and bench data).

The service reads codes through mappings/ (mappings/systems.yaml lists the accepted spellings);
these are the spellings it writes and the data generators use.
"""

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
UCUM = "http://unitsofmeasure.org"
CAP = "https://cap.org/eCC"
FINDINGS = "https://fhir.net-cds.org/CodeSystem/clinical-findings"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
COND_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
COND_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
COND_CAT = "http://terminology.hl7.org/CodeSystem/condition-category"
MCODE_HISTOLOGY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
