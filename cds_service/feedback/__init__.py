"""Card feedback (CDS Hooks 2.0 §Feedback): issued cards and the EHR's accepted/overridden outcomes."""
