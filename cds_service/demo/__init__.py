"""The demo page at `/` (development and demo mode only): the bundled sample patients' cards as an EHR shows them."""

ENVIRONMENTS = ("development", "demo")  # NET_CDS_ENV values with the demo page; production never has it
