"""Annual reports: one dataset built once, written in PDF, Word, Excel, CSV and JSON."""
