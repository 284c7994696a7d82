"""Reference data the county maintains: reading, checking, masking."""
