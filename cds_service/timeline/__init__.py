"""The NET timeline of one patient (issue 17): model (profile -> Timeline) and page (Timeline -> HTML)."""
