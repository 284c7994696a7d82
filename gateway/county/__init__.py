"""The county medical-insurance office's side: what it maintains, reviews, reports and prints."""
