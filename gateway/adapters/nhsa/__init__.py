"""The national medical-insurance platform interface (医疗保障信息平台 HTTP/JSON, infno)."""
