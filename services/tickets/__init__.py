"""The e-ticket's parts (issue #17): the IATA BCBP string (`bcbp`) and its barcode images (`barcodes`)."""
