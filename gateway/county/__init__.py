"""The county medical-insurance office's side: roles, audit, policy versions, identity lists, reports."""
