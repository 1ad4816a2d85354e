"""The Upload-Post route: publisher, connect flow and readiness (is the key accepted?)."""
