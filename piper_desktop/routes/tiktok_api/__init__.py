"""The TikTok Content Posting API route: publisher, connect flow, readiness, token duty."""
