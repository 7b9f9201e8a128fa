"""NET-CDS: CDS Hooks 2.0 decision support for gastroenteropancreatic neuroendocrine neoplasms."""

__version__ = "0.1.0"
